#if canImport(Glibc)
import Glibc
#endif

/// Readiness of a loop's descriptors through poll(2).
///
/// The Glibc module of the toolchain does not export epoll, and this module may not add a C
/// target of its own; poll costs a scan of the loop's descriptors per wait, which is small next
/// to a request at the connection counts the simulator is for (see docs/simulator.md).
struct Poller {
    private var descriptors: [pollfd] = []
    private var positions: [Int32: Int] = [:]

    static let readable = Int16(POLLIN)
    static let writable = Int16(POLLOUT)
    /// Conditions poll reports whether asked for or not.
    static let failed = Int16(POLLERR | POLLHUP | POLLNVAL)

    mutating func add(_ fd: Int32, events: Int16) {
        positions[fd] = descriptors.count
        descriptors.append(pollfd(fd: fd, events: events, revents: 0))
    }

    mutating func modify(_ fd: Int32, events: Int16) {
        guard let position = positions[fd] else { return }
        descriptors[position].events = events
    }

    mutating func remove(_ fd: Int32) {
        guard let position = positions.removeValue(forKey: fd) else { return }
        let last = descriptors.removeLast()
        if position < descriptors.count {
            descriptors[position] = last
            positions[last.fd] = position
        }
    }

    /// Waits up to `milliseconds` (-1: no limit) and returns the descriptors with events.
    mutating func wait(milliseconds: Int32) -> [(fd: Int32, events: Int16)] {
        let count = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        guard count > 0 else { return [] }
        var ready: [(fd: Int32, events: Int16)] = []
        ready.reserveCapacity(Int(count))
        for descriptor in descriptors where descriptor.revents != 0 {
            ready.append((descriptor.fd, descriptor.revents))
        }
        return ready
    }
}
