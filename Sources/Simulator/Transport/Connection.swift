/// The state of one client connection.
///
/// Owned by the event loop that accepted it and touched only on that loop's thread.
final class Connection {
    let fd: Int32
    let info: ConnectionInfo
    /// The TLS session when the server speaks HTTPS.
    let channel: (any SecureChannel)?

    /// Received bytes not yet consumed by a complete request.
    var input: [UInt8] = []
    /// The head of the request being received, once it has been parsed.
    var head: HTTPHead?
    /// Where that request's body starts in `input`.
    var bodyStart = 0
    /// Whether `100 Continue` has been sent for the request being received.
    var sentContinue = false
    /// How far `input` has been searched for the end of the head without finding it, so that
    /// a client sending a byte at a time does not make every read rescan the whole head.
    var headScanned = 0
    /// Whether the request line of the request being received has been checked.
    var requestLineChecked = false

    /// Bytes waiting to be written, and how many of them have been.
    var output: [UInt8] = []
    var outputOffset = 0
    /// Whether the loop is watching for the socket to become writable.
    var watchesWrites = false
    /// Whether the loop has stopped reading because unprocessed input piled up.
    var readsPaused = false

    /// A reply held back by a slow-reply fault, and when it is due.
    var delayed: DelayedReply?
    /// Set when the reply being written is the last: the connection then lingers and closes.
    var closeAfterFlush = false
    /// While lingering, incoming bytes are discarded until the peer closes or this moment.
    var lingerUntil: Double?

    /// When the first byte of the incomplete request arrived, if one is in progress.
    var requestStartedAt: Double?
    /// When anything last happened on the connection.
    var lastActivity: Double

    init(fd: Int32, info: ConnectionInfo, channel: (any SecureChannel)?, now: Double) {
        self.fd = fd
        self.info = info
        self.channel = channel
        self.lastActivity = now
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Socket.Transfer {
        channel?.receive(into: buffer) ?? Socket.receive(fd, into: buffer)
    }

    func send() -> Socket.Transfer {
        channel?.send(output, from: outputOffset) ?? Socket.send(fd, output, from: outputOffset)
    }

    var pendingOutputBytes: Int { output.count - outputOffset }
}

/// A reply that a slow-reply fault holds back until `due`.
struct DelayedReply {
    var bytes: [UInt8]
    var due: Double
    var closeAfter: Bool
}
