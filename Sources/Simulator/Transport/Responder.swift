/// What the transport knows about the connection a request came on.
struct ConnectionInfo: Sendable {
    /// Numbered from 1 in the order connections were accepted.
    var id: Int
}

/// What to do with a request once it has been read.
enum ResponderOutcome: Sendable {
    /// Write the reply, after `delay` real seconds, and close afterwards when `close` is set.
    case reply(HTTPResponse, delay: Double, close: Bool)
    /// Close the connection without answering.
    case drop
}

/// The layer above the transport: turns requests into replies.
///
/// Called on the transport's threads, concurrently for different connections, so it must not
/// block.
protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest, on connection: ConnectionInfo) -> ResponderOutcome
    /// The reply to bytes that are not an acceptable request; the connection closes after it.
    func reject(_ error: HTTPParseError, on connection: ConnectionInfo) -> HTTPResponse
}

/// Timeouts and bounds of the transport.
struct TransportSettings: Sendable {
    var limits = HTTPLimits()
    /// A request that has begun must be complete within this many seconds, so that a client
    /// that sends slowly cannot hold a connection for ever.
    var requestTimeout: Double = 30
    /// A keep-alive connection with no request for this long is closed.
    var idleTimeout: Double = 300
    /// How long a connection that is closing after an error reply keeps reading and
    /// discarding, so that its reply is not lost to a reset.
    var lingerTime: Double = 2
    /// The number of threads that serve connections.
    var threads = 2
    /// After a reply, how long a loop watches its connection without sleeping (0: never).
    ///
    /// For a client that sends its next request at once. Waking a sleeping
    /// thread, on a virtual machine a sleeping core, takes longer than a quick client needs.
    var busyPoll: Double = 0.0003
}
