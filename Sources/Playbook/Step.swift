import ChkflowCore
import PlaybookYAML

/// One step of a playbook.
///
/// A step is one reference to its fields, shared by the playbook, the plan and the engine's
/// indexes, and copied only when one of them changes a field. Inline, the fields take more than
/// 200 bytes, and a large playbook's steps would be held twice: in the playbook and in the plan.
public struct Step: Sendable {
    private struct Fields: Sendable {
        var id: String
        var kind: Kind
        var needs: [String]
        var onError: [ErrorRule]
        /// `expect` in seconds, NaN when the step has none: an optional would take 16 bytes
        /// here, and 8 bytes more would put every step in the next size of memory block.
        var expectSeconds: Double
        var mark: Mark
        var needMarks: [Mark]
        /// The fields few steps set, boxed: inline they would take 160 bytes of every step.
        var rare: Boxed?
    }

    private struct Rare: Sendable {
        var condition: Template?
        var session: String?
        var retry: RetryPolicy?
        var timeout: Double?
        var attemptTimeout: Double?
        var sessionMark: Mark?

        var isEmpty: Bool {
            condition == nil && session == nil && retry == nil && timeout == nil
                && attemptTimeout == nil && sessionMark == nil
        }
    }

    private indirect enum Boxed: Sendable {
        case rare(Rare)

        var value: Rare {
            switch self {
            case .rare(let rare): rare
            }
        }
    }

    // `@unchecked Sendable`: the fields change only through `update`, which copies them first
    // unless this step is their only owner, so no storage another value can see is ever written.
    private final class Storage: @unchecked Sendable {
        var fields: Fields

        init(_ fields: Fields) { self.fields = fields }
    }

    private var storage: Storage

    init(
        id: String,
        kind: Kind,
        needs: [String],
        condition: Template?,
        session: String?,
        onError: [ErrorRule],
        retry: RetryPolicy?,
        timeout: Double?,
        attemptTimeout: Double? = nil,
        expect: Double?,
        mark: Mark,
        needMarks: [Mark] = [],
        sessionMark: Mark? = nil
    ) {
        let rare = Rare(
            condition: condition,
            session: session,
            retry: retry,
            timeout: timeout,
            attemptTimeout: attemptTimeout,
            sessionMark: sessionMark
        )
        let fields = Fields(
            id: id,
            kind: kind,
            needs: needs,
            onError: onError,
            expectSeconds: expect ?? .nan,
            mark: mark,
            needMarks: needMarks,
            rare: rare.isEmpty ? nil : .rare(rare)
        )
        storage = Storage(fields)
    }

    private mutating func update(_ change: (inout Fields) -> Void) {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
        change(&storage.fields)
    }

    private var rare: Rare { storage.fields.rare?.value ?? Rare() }

    private mutating func updateRare(_ change: (inout Rare) -> Void) {
        var rare = self.rare
        change(&rare)
        update { $0.rare = rare.isEmpty ? nil : .rare(rare) }
    }

    public var id: String {
        get { storage.fields.id }
        set { update { $0.id = newValue } }
    }

    public var kind: Kind {
        get { storage.fields.kind }
        set { update { $0.kind = newValue } }
    }

    public var needs: [String] {
        get { storage.fields.needs }
        set { update { $0.needs = newValue } }
    }

    /// `when` or `if`; nil means `success()`.
    public var condition: Template? {
        get { rare.condition }
        set { updateRare { $0.condition = newValue } }
    }

    /// The id of the login step whose session the step uses.
    public var session: String? {
        get { rare.session }
        set { updateRare { $0.session = newValue } }
    }

    public var onError: [ErrorRule] {
        get { storage.fields.onError }
        set { update { $0.onError = newValue } }
    }

    public var retry: RetryPolicy? {
        get { rare.retry }
        set { updateRare { $0.retry = newValue } }
    }

    /// `timeout`: the most time the whole step may take, every attempt and wait included.
    public var timeout: Double? {
        get { rare.timeout }
        set { updateRare { $0.timeout = newValue } }
    }

    /// `attempt-timeout`: the most time one attempt of the step's request may take.
    public var attemptTimeout: Double? {
        get { rare.attemptTimeout }
        set { updateRare { $0.attemptTimeout = newValue } }
    }

    /// How long the step is expected to take, for the change window.
    public var expect: Double? {
        get { storage.fields.expectSeconds.isNaN ? nil : storage.fields.expectSeconds }
        set { update { $0.expectSeconds = newValue ?? .nan } }
    }

    public var mark: Mark {
        get { storage.fields.mark }
        set { update { $0.mark = newValue } }
    }

    /// Where each of `needs` is written, in the same order.
    var needMarks: [Mark] {
        get { storage.fields.needMarks }
        set { update { $0.needMarks = newValue } }
    }

    /// Where `session` is written.
    var sessionMark: Mark? {
        get { rare.sessionMark }
        set { updateRare { $0.sessionMark = newValue } }
    }

    /// Whether `attempt-timeout` applies to the step: it sends a request it may try again.
    public var takesAttemptTimeout: Bool {
        switch kind {
        case .login, .logout, .verify, .export, .call: true
        case .wait, .assert, .forEach: false
        }
    }

    // Indirect: the payloads differ a lot in size (a login holds eight templates), and a step is
    // copied into the plan and indexes; boxing keeps every step small.
    public indirect enum Kind: Sendable {
        case login(Login)
        case logout
        case verify(ExportRequest)
        case export(ExportRequest)
        case wait(Wait)
        case call(Call)
        case assert(Assertion)
        case forEach(ForEach)
    }

    /// The kind's name as written in a playbook.
    public var kindName: String {
        switch kind {
        case .login: "login"
        case .logout: "logout"
        case .verify: "verify"
        case .export: "export"
        case .wait: "wait"
        case .call: "call"
        case .assert: "assert"
        case .forEach: "for-each"
        }
    }

    /// Whether the step sends requests in a session.
    public var usesSession: Bool {
        switch kind {
        case .login, .assert, .forEach: false
        default: true
        }
    }
}

/// A `login` step.
public struct Login: Sendable {
    public var server: String?
    /// Where `server` is written.
    var serverMark: Mark?
    public var user: Template?
    public var password: Template?
    public var apiKey: Template?
    public var domain: Template?
    public var readOnly: Template?
    public var sessionName: Template?
    public var sessionTimeout: Template?
}

/// The body of export-management, for `verify` and `export` steps.
public struct ExportRequest: Sendable {
    /// Fields by their API names, in the order written.
    public var fields: [(name: String, value: Template, mark: Mark)]
}

/// A `wait` step: poll show-task until the task ends.
public struct Wait: Sendable {
    public var task: Template
    public var timeout: Double?
}

/// A `call` step: any other command with a body.
public struct Call: Sendable {
    public var command: String
    public var body: TemplateTree
    /// Wait for the task or tasks the reply names.
    public var waitForTask: Bool
}

/// An `assert` step.
public struct Assertion: Sendable {
    public var condition: Template
    public var message: Template?
}

/// A `for-each` step: its steps run once per item, `maxParallel` items at a time.
public struct ForEach: Sendable {
    /// The list to run over: a literal list, an input or a step's output.
    public var items: TemplateTree
    /// The name the item goes by in the inner steps' expressions (`item` unless `as` says).
    public var variable: String
    public var maxParallel: Int
    /// Stop starting new items after one fails.
    public var failFast: Bool
    public var steps: [Step]
}

/// A nested body whose leaves are templates.
public indirect enum TemplateTree: Sendable {
    case leaf(Template)
    case array([TemplateTree])
    case object([(String, TemplateTree)])

    /// Every template in the tree.
    public var templates: [Template] {
        switch self {
        case .leaf(let template): [template]
        case .array(let items): items.flatMap(\.templates)
        case .object(let members): members.flatMap { $0.1.templates }
        }
    }

    /// The tree's value in a scope; secret if any leaf is.
    public func evaluate(in scope: EvaluationScope) throws(EvaluationError) -> Value {
        switch self {
        case .leaf(let template):
            return try template.evaluate(in: scope)
        case .array(let items):
            var values: [JSON] = []
            var secret = false
            for item in items {
                let value = try item.evaluate(in: scope)
                values.append(value.json)
                secret = secret || value.isSecret
            }
            return Value(.array(values), isSecret: secret)
        case .object(let members):
            var values: [String: JSON] = [:]
            var secret = false
            for (key, item) in members {
                let value = try item.evaluate(in: scope)
                values[key] = value.json
                secret = secret || value.isSecret
            }
            return Value(.object(values), isSecret: secret)
        }
    }
}
