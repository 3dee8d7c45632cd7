import ChkflowCore
import PlaybookYAML

/// How safe a step's request is to send again.
public enum CommandClass: String, Sendable {
    /// Reads only (show-*, show-task): always safe to repeat.
    case readOnly = "read-only"
    /// Repeating changes nothing more (login, logout, keepalive, a pre-export verification).
    case idempotent
    /// Must never be sent twice blindly (export-management, publish, import-management, and any
    /// command chkflow does not know).
    case onceOnly = "once-only"
    /// Runs inside chkflow and sends nothing.
    case local

    /// The class of an API command by name.
    public static func of(command: String) -> CommandClass {
        if command.hasPrefix("show-") { return .readOnly }
        switch command {
        case "login", "logout", "keepalive", "login-to-domain", "discard": return .idempotent
        default: return .onceOnly
        }
    }
}

/// A playbook resolved into a graph: every step with the steps it waits for.
public struct Plan: Sendable {
    /// Why one step waits for another.
    public enum Reason: String, Sendable {
        /// The step lists the other in `needs`.
        case needs
        /// One of its expressions reads the other's outputs.
        case reference
        /// A logout waits for the steps of its session, and a step for its login.
        case session
    }

    public struct Node: Sendable {
        public var step: Step
        /// Ids of the steps that must end first, sorted.
        public var dependencies: [String]
        /// The reasons of the first 32 dependencies, two bits each, then a list for the rest.
        ///
        /// A dictionary of reasons by id cost about 170 bytes even for one edge, and a large
        /// playbook has one or two edges per step; most nodes now need no allocation for them.
        private var packedReasons: UInt64 = 0
        private var moreReasons: [Reason] = []

        /// Why each of `dependencies` exists, in the same order.
        public var dependencyReasons: [Reason] {
            dependencies.indices.map(reason(at:))
        }

        /// Why the dependency at `index` exists.
        public func reason(at index: Int) -> Reason {
            guard index < 32 else { return moreReasons[index - 32] }
            switch (packedReasons >> UInt64(2 * index)) & 3 {
            case 1: return .reference
            case 2: return .session
            default: return .needs
            }
        }

        private mutating func setReason(_ reason: Reason, at index: Int) {
            guard index < 32 else {
                if index - 32 < moreReasons.count {
                    moreReasons[index - 32] = reason
                } else {
                    moreReasons.append(reason)
                }
                return
            }
            let code: UInt64 =
                switch reason {
                case .needs: 0
                case .reference: 1
                case .session: 2
                }
            let shift = UInt64(2 * index)
            packedReasons = packedReasons & ~(3 << shift) | code << shift
        }

        /// The class of the request the step sends.
        public var commandClass: CommandClass { step.commandClass }
        public var session: String?
        /// The graph a `for-each` step runs once per item.
        public var children: [Node] = []

        init(step: Step, session: String?) {
            self.step = step
            self.dependencies = []
            self.session = session
        }

        /// Why each dependency exists: `needs`, `reference` or `session`, by the id it waits for.
        public var reasons: [String: String] {
            var reasons: [String: String] = [:]
            for (index, id) in dependencies.enumerated() {
                reasons[id] = reason(at: index).rawValue
            }
            return reasons
        }

        /// Adds an edge unless the step already waits for `id`.
        mutating func addDependency(_ id: String, _ reason: Reason) {
            guard !dependencies.contains(id) else { return }
            appendDependency(id, reason)
        }

        /// Adds an edge the caller knows is new.
        mutating func appendDependency(_ id: String, _ reason: Reason) {
            dependencies.append(id)
            setReason(reason, at: dependencies.count - 1)
        }

        /// Sorts the dependencies by id, keeping each reason with its id.
        mutating func sortDependencies() {
            guard zip(dependencies, dependencies.dropFirst()).contains(where: { $0 >= $1 }) else {
                // The common case of a step that waits only for what it needs: the step's own
                // list then serves, and the copy built while planning is given back.
                if dependencies == step.needs { dependencies = step.needs }
                return
            }
            // A logout's many session edges all have the same reason: sorted in place.
            if let first = dependencies.indices.first,
                dependencies.indices.allSatisfy({ reason(at: $0) == reason(at: first) })
            {
                let reason = reason(at: first)
                dependencies.sort()
                for index in dependencies.indices { setReason(reason, at: index) }
                return
            }
            let order = dependencies.indices.sorted { dependencies[$0] < dependencies[$1] }
            let reasons = order.map(reason(at:))
            dependencies = order.map { dependencies[$0] }
            for (index, reason) in reasons.enumerated() { setReason(reason, at: index) }
        }

        /// Whether this step, or any step inside it, uses the session.
        func usesSession(_ id: String) -> Bool {
            session == id || children.contains { $0.usesSession(id) }
        }
    }

    public var playbook: Playbook
    /// The steps in an order that respects every edge (stable with respect to the file).
    public var nodes: [Node]

    public func node(_ id: String) -> Node? { nodes.first { $0.step.id == id } }
}

extension Step {
    /// The class of the request the step sends.
    public var commandClass: CommandClass {
        switch kind {
        case .login, .logout, .verify: .idempotent
        case .export: .onceOnly
        case .wait: .readOnly
        case .call(let call): CommandClass.of(command: call.command)
        case .assert, .forEach: .local
        }
    }

    /// The outputs a step of this kind offers to later expressions.
    public var outputNames: [String] { Self.outputNames(ofKind: kindName) }

    /// The outputs of a kind of step, by the kind's name as written in a playbook.
    static func outputNames(ofKind kind: String) -> [String] {
        let common = ["status", "outcome"]
        switch kind {
        case "login": return common + ["api-server-version", "url", "session-timeout", "response"]
        case "for-each": return common + ["items"]
        case "verify", "export": return common + ["task-id", "response", "task"]
        case "wait": return common + ["task-id", "task"]
        case "call": return common + ["response", "task-id", "tasks", "task"]
        default: return common
        }
    }

    /// Every template the step holds.
    var templates: [Template] {
        var result: [Template] = condition.map { [$0] } ?? []
        switch kind {
        case .login(let login):
            result += [
                login.user, login.password, login.apiKey, login.domain, login.readOnly,
                login.sessionName, login.sessionTimeout,
            ].compactMap { $0 }
        case .logout: break
        case .verify(let request), .export(let request): result += request.fields.map(\.value)
        case .wait(let wait): result.append(wait.task)
        case .call(let call): result += call.body.templates
        case .forEach(let loop): result += loop.items.templates
        case .assert(let assertion):
            result += [assertion.condition] + [assertion.message].compactMap { $0 }
        }
        return result
    }
}
