import ChkflowCore

/// Why a scenario document is not a valid scenario: where (`faults[1].call`) and what.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path of the offending value from the document root, such as `tasks.export.duration`.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

extension Scenario {
    /// A scenario from the tree of a scenario file (YAML read into `JSON`, or JSON itself).
    ///
    /// Keys are spelled as in the API (`server-type`, `session-timeout`); durations are seconds
    /// or texts such as `90s`, `45m`, `1h30m`; every key is optional, and any key the format does
    /// not have is an error, so that a misspelt fault is not silently ignored. The format, with
    /// an example, is in docs/simulator.md.
    public init(document: JSON) throws(ScenarioError) {
        self.init()
        let root = try Node(document, path: "").object(allowed: Self.documentKeys)
        if let node = root["server-type"] {
            let text = try node.string()
            guard let type = ServerType(rawValue: text) else {
                throw node.error("must be single-server or multi-domain")
            }
            serverType = type
        }
        if let node = root["api-version"] {
            apiVersion = try node.string()
            guard APIVersions.known.contains(apiVersion) else {
                throw node.error("unknown API version \(apiVersion)")
            }
        }
        if let node = root["admins"] { admins = try node.list(Self.admin) }
        if let node = root["domains"] { domains = try node.strings() }
        if let node = root["session-timeout"] { sessionTimeout = try node.integer(in: 10...3600) }
        if let node = root["time-scale"] { timeScale = try node.positiveNumber() }
        if let node = root["exports-at-once"] { exportsAtOnce = try node.integer(in: 1...1000) }
        if let node = root["sessions-expire-at"] {
            sessionsExpireAt = try node.list { node throws(ScenarioError) in try node.duration() }
        }
        if let node = root["rate-limits"] { rateLimits = try Self.rateLimits(node) }
        if let node = root["tasks"] { try readTasks(node) }
        if let node = root["faults"] { faults = try node.list(Self.fault) }
    }

    private static let documentKeys: Set<String> = [
        "server-type", "api-version", "admins", "domains", "session-timeout", "time-scale",
        "exports-at-once", "sessions-expire-at", "rate-limits", "tasks", "faults",
    ]

    private static func admin(_ node: Node) throws(ScenarioError) -> SimulatedAdmin {
        let fields = try node.object(allowed: ["name", "password", "api-key"])
        guard let name = fields["name"] else { throw node.error("an admin needs a name") }
        let admin = SimulatedAdmin(
            name: try name.string(),
            password: try fields["password"]?.string(),
            apiKey: try fields["api-key"]?.string()
        )
        guard admin.password != nil || admin.apiKey != nil else {
            throw node.error("an admin needs a password or an api-key")
        }
        return admin
    }

    private static func rateLimits(_ node: Node) throws(ScenarioError) -> RateLimits {
        let fields = try node.object(allowed: ["logins-per-minute", "requests-per-second"])
        return RateLimits(
            loginsPerMinute: try fields["logins-per-minute"]?.integer(in: 1...1_000_000),
            requestsPerSecond: try fields["requests-per-second"]?.integer(in: 1...1_000_000)
        )
    }

    private mutating func readTasks(_ node: Node) throws(ScenarioError) {
        let fields = try node.object(allowed: ["verification", "export", "import", "publish"])
        if let task = fields["verification"] { verification = try Self.task(task) }
        if let task = fields["export"] { export = try Self.task(task) }
        if let task = fields["import"] { importTask = try Self.task(task) }
        if let task = fields["publish"] { publish = try Self.task(task) }
    }

    private static func task(_ node: Node) throws(ScenarioError) -> TaskBehaviour {
        let fields = try node.object(allowed: [
            "duration", "final-status", "hang-at", "warnings", "blocking-errors", "task-details",
        ])
        var behaviour = TaskBehaviour(duration: try fields["duration"]?.duration() ?? 1)
        if let status = fields["final-status"] {
            let text = try status.string()
            guard let value = TaskStatus(rawValue: text), value.isTerminal else {
                throw status.error(
                    "must be succeeded, succeeded with warnings, partially succeeded or failed"
                )
            }
            behaviour.finalStatus = value
        }
        behaviour.hangAt = try fields["hang-at"]?.integer(in: 0...99)
        behaviour.warnings = try fields["warnings"]?.strings() ?? []
        behaviour.blockingErrors = try fields["blocking-errors"]?.strings() ?? []
        if let details = fields["task-details"] {
            behaviour.taskDetails = try details.list { node throws(ScenarioError) in
                guard node.value.objectValue != nil else { throw node.error("must be a mapping") }
                return node.value
            }
        }
        return behaviour
    }

    private static func fault(_ node: Node) throws(ScenarioError) -> FaultRule {
        let fields = try node.object(
            allowed: actionKeys.union(["command", "call", "count", "probability", "seed"])
        )
        let actions = fields.keys.filter { actionKeys.contains($0) }
        guard actions.count == 1, let actionKey = actions.first, let actionNode = fields[actionKey]
        else {
            let names = actionKeyOrder.joined(separator: ", ")
            throw node.error("a fault needs exactly one of \(names)")
        }
        var rule = FaultRule(
            command: try fields["command"]?.string(),
            action: try faultAction(actionKey, actionNode)
        )
        rule.call = try fields["call"]?.integer(in: 1...Int.max)
        rule.count = try fields["count"]?.integer(in: 1...Int.max) ?? 1
        if let chance = fields["probability"] {
            let value = try chance.number()
            guard (0...1).contains(value) else { throw chance.error("must be from 0 to 1") }
            guard rule.call == nil else { throw chance.error("cannot go with call") }
            rule.probability = value
        }
        if let seed = fields["seed"] { rule.seed = UInt64(try seed.integer(in: 0...Int.max)) }
        return rule
    }

    private static func faultAction(
        _ key: String,
        _ node: Node
    ) throws(ScenarioError) -> FaultAction {
        switch key {
        case "error":
            let fields = try node.object(allowed: ["status", "code", "message"])
            guard let code = fields["code"] else { throw node.error("an error needs a code") }
            return .error(
                status: try fields["status"]?.integer(in: 100...599) ?? 400,
                code: try code.string(),
                message: try fields["message"]?.string() ?? "Injected failure"
            )
        case "drop":
            switch try node.string() {
            case "before-read": return .dropBeforeRead
            case "after-read": return .dropAfterRead
            default: throw node.error("must be before-read or after-read")
            }
        case "slow-reply":
            return .slowReply(seconds: try node.duration())
        case "huge-reply":
            return .hugeReply(bytes: try node.integer(in: 1...(1 << 30)))
        case "non-json-reply":
            return .nonJSONReply(status: try node.integer(in: 100...599))
        case "wrong-shape":
            let text = try node.string()
            guard let shape = WrongShape(rawValue: text) else {
                let names = WrongShape.allCases.map(\.rawValue).joined(separator: ", ")
                throw node.error("must be one of \(names)")
            }
            return .wrongShape(shape)
        default:
            guard try node.bool() else { throw node.error("must be true when present") }
            switch key {
            case "truncated-reply": return .truncatedReply
            case "task-goes-backwards": return .taskGoesBackwards
            case "never-answer": return .neverAnswer
            default: return .nonJSONForbidden
            }
        }
    }

    /// The keys of a fault that name its action, in the order messages list them.
    private static let actionKeyOrder = [
        "error", "drop", "slow-reply", "forbidden-html", "huge-reply", "truncated-reply",
        "non-json-reply", "wrong-shape", "task-goes-backwards", "never-answer",
    ]

    private static let actionKeys = Set(actionKeyOrder)
}

/// A value of a scenario document with its path, read with the types the format expects.
///
/// Scalars are accepted as YAML loaders hand them over: a number may come as a string of
/// digits, a boolean as `true` or `false` text.
private struct Node {
    let value: JSON
    let path: String

    init(_ value: JSON, path: String) {
        self.value = value
        self.path = path
    }

    func error(_ message: String) -> ScenarioError { ScenarioError(path: path, message: message) }

    func object(allowed: Set<String>) throws(ScenarioError) -> [String: Node] {
        guard let members = value.objectValue else { throw error("must be a mapping") }
        if let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw child(unknown).error("unknown key")
        }
        var nodes: [String: Node] = [:]
        for (key, member) in members { nodes[key] = Node(member, path: child(key).path) }
        return nodes
    }

    /// Each item of a list, read by `transform`.
    func list<Item>(
        _ transform: (Node) throws(ScenarioError) -> Item
    ) throws(ScenarioError) -> [Item] {
        guard let items = value.arrayValue else { throw error("must be a list") }
        var result: [Item] = []
        for (index, item) in items.enumerated() {
            result.append(try transform(Node(item, path: "\(path)[\(index)]")))
        }
        return result
    }

    func strings() throws(ScenarioError) -> [String] {
        try list { node throws(ScenarioError) in try node.string() }
    }

    func string() throws(ScenarioError) -> String {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        default: throw error("must be a string")
        }
    }

    func bool() throws(ScenarioError) -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .string("true"): return true
        case .string("false"): return false
        default: throw error("must be true or false")
        }
    }

    func number() throws(ScenarioError) -> Double {
        guard let number = value.doubleValue, number.isFinite else {
            throw error("must be a number")
        }
        return number
    }

    func positiveNumber() throws(ScenarioError) -> Double {
        let number = try number()
        guard number > 0 else { throw error("must be greater than 0") }
        return number
    }

    func integer(in range: ClosedRange<Int>) throws(ScenarioError) -> Int {
        guard let number = value.intValue, let whole = Int(exactly: number) else {
            throw error("must be a whole number")
        }
        guard range.contains(whole) else {
            throw error("must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return whole
    }

    /// Seconds: a number, or a duration text such as `90s` or `1h30m`.
    func duration() throws(ScenarioError) -> Double {
        if let seconds = value.doubleValue, case .string = value {
            guard seconds >= 0 else { throw error("must not be negative") }
            return seconds
        }
        if case .string(let text) = value {
            guard let seconds = DurationText.seconds(text) else {
                throw error("must be a duration such as 90s, 45m or 1h30m")
            }
            return seconds
        }
        guard let seconds = value.doubleValue, seconds >= 0 else {
            throw error("must be a duration such as 90s, 45m or 1h30m")
        }
        return seconds
    }

    private func child(_ key: String) -> Node {
        Node(.null, path: path.isEmpty ? key : "\(path).\(key)")
    }
}
