// Package ftstream is the "file-transfer" stream type of
// sipstreams-plugin-filetransfer: the reference's FileTransferStream, a
// file pushed or pulled over MSRP (RFC 4975) as RFC 5547 describes it,
// built on the MSRP stream base of package sdk/msrpstream.
//
// [Plugin] declares the type (m=message, TCP/MSRP or TCP/TLS/MSRP,
// priority 10, accept-types *). A stream embeds *msrpstream.Base, which
// runs SDP, the connection role, the MSRP connection and the generic
// lifecycle; the stream adds a=file-selector, a=x-file-offset and
// a=file-transfer-id, and one of two ends:
//
//   - The sender (local sendonly: a push we make, or a peer's pull) hashes
//     its file at Initialize when no hash was given
//     (msrpstream.Config.Prepare, FileTransferHandlerHashProgress), then,
//     once started, asks the receiver for its offset with FILE_OFFSET when
//     it announced a=x-file-offset, and sends the rest of the file as one
//     MSRP message (one Message-ID, Byte-Range start-*/total, pieces of
//     file_transfer.chunk_size), streamed from the file by the MSRP
//     connection in constant memory. Success REPORTs give
//     FileTransferHandlerProgress; the one confirming the last byte ends
//     the transfer. A failed transaction or failure REPORT fails it.
//   - The receiver (local recvonly) claims a partial file in the save
//     directory (package partial: resumed when a previous transfer of the
//     same hash left one, valid 7 days) and writes each chunk through a
//     sink (package sink: in order, within the size, hashed as it is
//     written), answering FILE_OFFSET with what it has, REPORTing each
//     chunk once written; when the message completes, the file is put in
//     place under a unique name if its SHA-1 matches, deleted otherwise
//     ("File hash mismatch"), and the final REPORT says which. What an
//     interrupted transfer received is kept for a later one.
//
// Streams built from an offer are prepared only when accepted
// (sdk.PrepareDeferrer), so that the application names the file a pull
// asks for (set_file) or the directory to save a push in
// (set_save_directory) first. FileTransferHandlerDidEnd is posted exactly
// once per stream that initialized: by the sender or receiver when the
// transfer ends, else in End (msrpstream Handler.Closed), before
// MediaStreamDidEnd.
//
// The stream owns one goroutine besides the Base's: the sender's, which
// End stops and waits for. The receiver runs on the MSRP connection's
// reader goroutine, which gives back-pressure to the sender: a slow disk
// slows the transfer, it does not fill memory.
package ftstream
