package vfs

import "os"

const oCreate = os.O_CREATE
