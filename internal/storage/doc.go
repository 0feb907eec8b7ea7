// Package storage is the mail storage API: users, namespaces, mailboxes and messages, independent of any protocol.
package storage
