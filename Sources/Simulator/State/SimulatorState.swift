import ChkflowCore
import Synchronization

/// A logged-in session.
struct Session: Sendable {
    var sid: String
    var uid: String
    var admin: String
    var domain: String
    var readOnly: Bool
    /// Idle timeout in simulated seconds.
    var timeout: Double
    /// The simulated moment of the last call made with the session.
    var lastUsed: Double
    /// Set once a call finds the session idle too long; it then answers "expired" for ever.
    var expired = false
}

/// What a task does, which decides its name and details.
enum TaskKind: Sendable {
    case export(filePath: String)
    case preExportVerification
}

/// A server task started by a command.
struct SimulatedTask: Sendable {
    var id: String
    var kind: TaskKind
    var domain: String
    var started: Double
    var behaviour: TaskBehaviour

    /// The status and progress percentage at a simulated moment: `in progress` and rising
    /// linearly for the task's duration, then its final status at 100.
    func progress(at now: Double) -> (status: TaskStatus, percentage: Int) {
        let elapsed = now - started
        guard elapsed < behaviour.duration else { return (behaviour.finalStatus, 100) }
        let fraction = max(0, elapsed / behaviour.duration)
        return (.inProgress, min(99, Int(fraction * 100)))
    }

    /// When the task ended or will end.
    var ends: Double { started + max(0, behaviour.duration) }
}

/// Sessions, tasks and login history: the mutable world of one simulated server, shared by
/// every serving thread behind one lock.
final class SimulatorState: Sendable {
    private struct Storage {
        var sessions: [String: Session] = [:]
        var tasks: [String: SimulatedTask] = [:]
        var lastLogin: [String: Double] = [:]
    }

    private let storage = Mutex(Storage())

    /// Records a new session; returns the simulated moment of the admin's previous login.
    func open(_ session: Session) -> Double? {
        storage.withLock { storage in
            storage.sessions[session.sid] = session
            let previous = storage.lastLogin[session.admin]
            storage.lastLogin[session.admin] = session.lastUsed
            return previous
        }
    }

    /// The session of a sid, after checking that it is alive and resetting its idle timer.
    func use(sid: String, at now: Double) throws(APIError) -> Session {
        let result: Result<Session, APIError> = storage.withLock { storage in
            guard var session = storage.sessions[sid] else { return .failure(.wrongSession) }
            if session.expired || now - session.lastUsed > session.timeout {
                session.expired = true
                storage.sessions[sid] = session
                return .failure(.expiredSession)
            }
            session.lastUsed = now
            storage.sessions[sid] = session
            return .success(session)
        }
        return try result.get()
    }

    /// Ends a session; its sid is unknown afterwards.
    func close(sid: String) {
        storage.withLock { _ = $0.sessions.removeValue(forKey: sid) }
    }

    func add(_ task: SimulatedTask) {
        storage.withLock { $0.tasks[task.id] = task }
    }

    /// The tasks with these ids, in order; the first unknown id is an error.
    func tasks(_ ids: [String]) throws(APIError) -> [SimulatedTask] {
        let result: Result<[SimulatedTask], APIError> = storage.withLock { storage in
            var found: [SimulatedTask] = []
            for id in ids {
                guard let task = storage.tasks[id.lowercased()] else {
                    return .failure(.objectNotFound(id))
                }
                found.append(task)
            }
            return .success(found)
        }
        return try result.get()
    }
}
