// Package deflate implements the stream layer of IMAP COMPRESS=DEFLATE
// (RFC 4978): raw DEFLATE (RFC 1951) in both directions of a connection,
// with no zlib or gzip framing.
//
// Reader is an inflater that never waits for input while it holds output:
// every Read returns all the plaintext that the compressed bytes received
// so far determine, whether the peer ended its batch with Z_SYNC_FLUSH,
// Z_FULL_FLUSH or Z_PARTIAL_FLUSH (which is not byte-aligned and ends in
// an empty fixed-Huffman block). compress/flate's reader can wait for the
// next block before returning data decoded at a partial flush, which
// deadlocks a server whose client flushes after every command and then
// waits for the answer. Reader decodes one whole symbol (or block header)
// at a time and rolls back to the symbol's start when the input ends
// inside it, so a symbol is never half consumed.
//
// Writer compresses with compress/flate and ends each batch with a sync
// flush (Z_SYNC_FLUSH: an empty stored block), which every zlib-based
// client decodes at once. Conn joins both over a net.Conn: the IMAP server
// switches to it after the tagged OK of COMPRESS and calls Flush where it
// flushed the socket before.
//
// Memory per connection: Reader keeps the 32 KiB window plus at most
// maxPending bytes of decoded but unread output and its input buffer;
// Writer is compress/flate's (about 1 MiB at levels 2 to 9, less at
// BestSpeed and HuffmanOnly).
package deflate
