import ChkflowCore
import Synchronization

/// A logged-in session.
struct Session: Sendable {
    var sid: String
    /// How the request log names the session: computed once at login.
    var hash: String
    var uid: String
    var admin: String
    var domain: String
    var readOnly: Bool
    /// Idle timeout in simulated seconds.
    var timeout: Double
    /// The simulated moment of login.
    var created: Double
    /// The simulated moment of the last call made with the session.
    var lastUsed: Double
    var name = ""
    var description = ""
    /// Set once the session has expired; it then answers "expired" for ever.
    var expired = false

    init(
        sid: String,
        uid: String,
        admin: String,
        domain: String,
        readOnly: Bool,
        timeout: Double,
        now: Double
    ) {
        self.sid = sid
        self.hash = Identifiers.sessionHash(sid)
        self.uid = uid
        self.admin = admin
        self.domain = domain
        self.readOnly = readOnly
        self.timeout = timeout
        self.created = now
        self.lastUsed = now
    }
}

/// What a task does, which decides its name and details.
enum TaskKind: Sendable {
    case export(filePath: String)
    case preExportVerification
    case importManagement(filePath: String)
    case preImportVerification(filePath: String)
    case publish
}

/// A server task started by a command.
struct SimulatedTask: Sendable {
    var id: String
    var kind: TaskKind
    var domain: String
    /// The admin whose session started the task.
    var initiator: String
    var started: Double
    var behaviour: TaskBehaviour

    /// The status and progress percentage at a simulated moment: `in progress` and rising
    /// linearly for the task's duration, then its final status at 100; a hanging task stays
    /// `in progress` at its `hangAt` percentage.
    func progress(at now: Double) -> (status: TaskStatus, percentage: Int) {
        let elapsed = now - started
        let linear =
            behaviour.duration > 0 ? min(99, Int(max(0, elapsed / behaviour.duration) * 100)) : 99
        if let hang = behaviour.hangAt { return (.inProgress, min(linear, max(0, min(99, hang)))) }
        guard elapsed < behaviour.duration else { return (behaviour.finalStatus, 100) }
        return (.inProgress, linear)
    }

    /// When the task ended or will end.
    var ends: Double { behaviour.hangAt == nil ? started + max(0, behaviour.duration) : .infinity }
}

/// Sessions, tasks and login history: the mutable world of one simulated server, shared by
/// every serving thread behind one lock.
final class SimulatorState: Sendable {
    private struct Storage {
        var sessions: [String: Session] = [:]
        var tasks: [String: SimulatedTask] = [:]
        var taskOrder: [String] = []
        var lastLogin: [String: Double] = [:]
        /// Every sid handed out, in order, for tests that look for leaks.
        var issued: [String] = []
    }

    private let storage = Mutex(Storage())
    private let expiryMoments: [Double]

    init(expiryMoments: [Double] = []) {
        self.expiryMoments = expiryMoments.sorted()
    }

    /// Records a new session; returns the simulated moment of the admin's previous login.
    func open(_ session: Session) -> Double? {
        storage.withLock { storage in
            storage.sessions[session.sid] = session
            storage.issued.append(session.sid)
            let previous = storage.lastLogin[session.admin]
            storage.lastLogin[session.admin] = session.created
            return previous
        }
    }

    /// The session of a sid, after checking that it is alive and resetting its idle timer.
    func use(sid: String, at now: Double) throws(APIError) -> Session {
        let result: Result<Session, APIError> = storage.withLock { storage in
            guard var session = storage.sessions[sid] else { return .failure(.wrongSession) }
            if session.expired || now - session.lastUsed > session.timeout
                || expiryMoments.contains(where: { $0 >= session.created && $0 <= now })
            {
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

    /// Changes a live session.
    func update(sid: String, _ change: (inout Session) -> Void) -> Session? {
        storage.withLock { storage in
            guard var session = storage.sessions[sid] else { return nil }
            change(&session)
            storage.sessions[sid] = session
            return session
        }
    }

    /// The session with this uid, alive or expired.
    func session(uid: String) -> Session? {
        storage.withLock { storage in storage.sessions.values.first { $0.uid == uid } }
    }

    /// Ends a session; its sid is unknown afterwards.
    func close(sid: String) {
        storage.withLock { _ = $0.sessions.removeValue(forKey: sid) }
    }

    func add(_ task: SimulatedTask) {
        storage.withLock { storage in
            storage.tasks[task.id] = task
            storage.taskOrder.append(task.id)
        }
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

    /// Every task, oldest first.
    func allTasks() -> [SimulatedTask] {
        storage.withLock { storage in storage.taskOrder.compactMap { storage.tasks[$0] } }
    }

    /// Every sid issued so far, oldest first, and those neither logged out nor expired.
    func sessionIDs() -> (issued: [String], open: [String]) {
        storage.withLock { storage in
            let open = storage.issued.filter { storage.sessions[$0].map { !$0.expired } ?? false }
            return (storage.issued, open)
        }
    }
}
