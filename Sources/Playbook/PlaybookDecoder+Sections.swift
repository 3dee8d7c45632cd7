import ChkflowCore
import PlaybookYAML

extension PlaybookDecoder {
    static let topLevelKeys = [
        "chkflow", "name", "description", "inputs", "servers", "secrets", "window", "defaults",
        "steps",
    ]

    /// Decodes a whole playbook; nil only when the document is not a mapping.
    ///
    /// The root is consumed: each top-level step's part of the tree is given back as soon as the
    /// step is decoded, so a large playbook is never held twice, once as nodes and once typed.
    mutating func decodePlaybook(_ root: consuming Node, sha256: String) -> Playbook? {
        let rootMark = root.mark
        guard var top = mapping(root, allowed: Self.topLevelKeys, in: "the playbook") else {
            return nil
        }
        _ = consume root
        checkVersion(top["chkflow"], at: rootMark)
        let name = top["name"].flatMap { string($0, "'name'") } ?? ""
        if top["name"] == nil { report(at: rootMark, "the playbook needs a 'name'") }
        if let node = top["name"], node.text == "", !node.isNull {
            report(node, "'name' must not be empty")
        }
        let description = top["description"].flatMap { string($0, "'description'") }
        let inputs = top["inputs"].map { decodeInputs($0) } ?? []
        let servers = top["servers"].map { decodeServers($0) } ?? [:]
        let secrets = top["secrets"].map { decodeSecrets($0) } ?? [:]
        let window = top["window"].flatMap { decodeWindow($0) }
        let defaults = top["defaults"].map { decodeDefaults($0) } ?? Defaults()
        var steps: [Step] = []
        if let stepsNode = top.removeValue(forKey: "steps") {
            steps = decodeSteps(stepsNode, releasingEach: true)
        } else {
            report(at: rootMark, "the playbook needs 'steps'")
        }
        let timeoutText = top["defaults"]?.pairs?.first { $0.key.text == "timeout" }?.value.text
        checkInheritedTimeouts(defaults: defaults, timeoutText: timeoutText)
        return Playbook(
            file: file,
            sha256: sha256,
            name: name,
            description: description,
            inputs: inputs,
            servers: servers,
            secrets: secrets,
            window: window,
            defaults: defaults,
            steps: steps
        )
    }

    private mutating func checkVersion(_ node: Node?, at rootMark: Mark) {
        guard let node else {
            report(
                at: rootMark,
                "the playbook needs 'chkflow: 1' (the version of the playbook language)"
            )
            return
        }
        if json(of: node) != .int(1) {
            report(node, "this chkflow reads playbook language version 1, not \(describe(node))")
        }
    }

    private mutating func decodeInputs(_ node: Node) -> [Input] {
        guard let pairs = node.pairs else {
            report(node, "'inputs' must be a mapping of input names, not \(describe(node))")
            gaps.wholeSections.insert("inputs")
            return []
        }
        return pairs.compactMap { pair in
            guard let name = declaredName(pair.key, "input name") else { return nil }
            guard let input = decodeInput(name: name, pair.value) else {
                gaps.inputs.insert(name)
                return nil
            }
            return input
        }
    }

    /// The name of an input or secret, which expressions write after `inputs.` or `secrets.`.
    private mutating func declaredName(_ key: Node, _ what: String) -> String? {
        guard let name = key.text, key.scalar != nil else {
            report(key, "\(what)s must be plain names, not \(describe(key))")
            return nil
        }
        if !Self.isValidID(name) { report(key, Self.nameRule(what, name)) }
        return name
    }

    private mutating func decodeInput(name: String, _ node: Node) -> Input? {
        let context = "input '\(name)'"
        let keys = ["type", "default", "pattern", "description"]
        guard let members = mapping(node, allowed: keys, in: context) else { return nil }
        var kind = Input.Kind.string
        if let typeNode = members["type"] {
            let text = typeNode.text ?? ""
            if let parsed = Input.Kind(rawValue: text) {
                kind = parsed
            } else {
                let names = Planner.list(Input.Kind.allCases.map(\.rawValue), "or")
                report(
                    typeNode,
                    "the type of \(context) must be one of \(names), not \(describe(typeNode))"
                )
            }
        }
        var defaultValue: JSON?
        if let defaultNode = members["default"] {
            defaultValue = inputValue(defaultNode, kind: kind, context: context)
        }
        var pattern = members["pattern"].flatMap { string($0, "the pattern of \(context)") }
        if let text = pattern, let patternNode = members["pattern"], !InputPattern.isValid(text) {
            report(patternNode, "the pattern of \(context) is not a valid regular expression")
            pattern = nil
        }
        if let pattern, let defaultNode = members["default"], let value = defaultValue,
            !InputPattern.matches(pattern, Self.commandLineText(value))
        {
            report(defaultNode, "the default of \(context) does not match its pattern '\(pattern)'")
        }
        return Input(
            name: name,
            kind: kind,
            defaultValue: defaultValue,
            pattern: pattern,
            description: members["description"].flatMap { string($0, "the description") },
            mark: node.mark
        )
    }

    /// A value as `--var` would write it, which is what an input's pattern is matched against.
    private static func commandLineText(_ value: JSON) -> String {
        if let items = value.arrayValue { return items.map(\.interpolated).joined(separator: ",") }
        return value.interpolated
    }

    private mutating func inputValue(_ node: Node, kind: Input.Kind, context: String) -> JSON? {
        switch kind {
        case .list:
            guard let items = node.items else {
                report(node, "the default of \(context) must be a list, not \(describe(node))")
                return nil
            }
            var values: [JSON] = []
            for item in items {
                guard let value = json(of: item) else {
                    report(
                        item,
                        "the items of the default of \(context) must be single values, not \(describe(item))"
                    )
                    continue
                }
                values.append(value)
            }
            return .array(values)
        case .integer:
            guard let value = json(of: node), case .int = value else {
                report(
                    node,
                    "the default of \(context) must be a whole number, not \(describe(node))"
                )
                return nil
            }
            return value
        case .boolean:
            return boolean(node, "the default of \(context)").map(JSON.bool)
        case .string:
            return string(node, "the default of \(context)").map(JSON.string)
        }
    }

    private mutating func decodeServers(_ node: Node) -> [String: Server] {
        guard let pairs = node.pairs else {
            report(node, "'servers' must be a mapping of server names, not \(describe(node))")
            gaps.wholeSections.insert("servers")
            return [:]
        }
        var servers: [String: Server] = [:]
        for pair in pairs {
            guard let name = pair.key.text, pair.key.scalar != nil else {
                report(pair.key, "server names must be plain names, not \(describe(pair.key))")
                continue
            }
            let context = "server '\(name)'"
            let keys = ["url", "tls", "limits"]
            gaps.servers.insert(name)
            guard let members = mapping(pair.value, allowed: keys, in: context) else { continue }
            guard let urlNode = members["url"] else {
                report(pair.value, "\(context) needs a 'url'")
                continue
            }
            guard let url = template(urlNode, "the url of \(context)") else { continue }
            gaps.servers.remove(name)
            checkURL(url, node: urlNode)
            var server = Server(
                name: name,
                url: url,
                tls: .system,
                requestsPerSecond: nil,
                loginsPerMinute: nil,
                exportsAtOnce: nil,
                mark: pair.value.mark
            )
            if let tlsNode = members["tls"] { server.tls = decodeTLS(tlsNode, context: context) }
            if let limits = members["limits"] { decodeLimits(limits, into: &server) }
            servers[name] = server
        }
        return servers
    }

    private mutating func checkURL(_ url: Template, node: Node) {
        guard let literal = url.literal else { return }
        guard case .string(let text) = literal else {
            report(
                node,
                "a server url must be text such as https://mgmt.example.net, not \(describe(node))"
            )
            return
        }
        let lower = text.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            report(node, "a server url must start with https://, not '\(text)'")
            return
        }
        let rest = text.drop { $0 != "/" }.dropFirst(2)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if authority.contains("@") {
            report(node, "a server url must not hold a user name or password; use a login step")
        } else if authority.isEmpty {
            report(node, "the server url '\(text)' names no host")
        } else if lower.hasPrefix("http://"), !Self.isLoopback(authority) {
            report(
                node,
                "plain http:// is accepted only for this machine (127.0.0.1, ::1, localhost); use https:// for '\(text)'"
            )
        }
    }

    private static func isLoopback(_ authority: Substring) -> Bool {
        var host = authority.lowercased()
        if host.hasPrefix("[") {
            host = String(host.dropFirst().prefix { $0 != "]" })
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    private mutating func decodeTLS(_ node: Node, context: String) -> TLSSetting {
        let keys = ["fingerprint", "ca-file", "insecure"]
        guard let members = mapping(node, allowed: keys, in: "the tls of \(context)") else {
            return .system
        }
        if members.count > 1 {
            report(
                node,
                "the tls of \(context) takes one of 'fingerprint', 'ca-file' or 'insecure'"
            )
        }
        if let pin = members["fingerprint"], let value = template(pin, "'fingerprint'") {
            if let literal = value.literal, !Self.isFingerprint(literal) {
                report(
                    pin,
                    "'fingerprint' must be a SHA-256 fingerprint: 64 hex digits, with or without ':' after each pair"
                )
            }
            return .fingerprint(value)
        }
        if let file = members["ca-file"], let value = template(file, "'ca-file'") {
            return .caFile(value)
        }
        if let insecure = members["insecure"], boolean(insecure, "'insecure'") == true {
            return .insecure
        }
        return .system
    }

    private static func isFingerprint(_ value: JSON) -> Bool {
        guard case .string(let text) = value else { return false }
        let characters = Array(text)
        if characters.count == 64 { return characters.allSatisfy(\.isHexDigit) }
        // 32 pairs of hex digits with ':' between them.
        guard characters.count == 95 else { return false }
        return characters.indices.allSatisfy {
            $0 % 3 == 2 ? characters[$0] == ":" : characters[$0].isHexDigit
        }
    }

    private mutating func decodeLimits(_ node: Node, into server: inout Server) {
        let keys = ["requests-per-second", "logins-per-minute", "exports-at-once"]
        guard let members = mapping(node, allowed: keys, in: "'limits'") else { return }
        server.requestsPerSecond = members["requests-per-second"].flatMap {
            number($0, "'requests-per-second'")
        }
        server.loginsPerMinute = members["logins-per-minute"].flatMap {
            integer($0, "'logins-per-minute'")
        }
        server.exportsAtOnce = members["exports-at-once"].flatMap {
            integer($0, "'exports-at-once'")
        }
    }

    private mutating func decodeSecrets(_ node: Node) -> [String: Secret] {
        guard let pairs = node.pairs else {
            report(node, "'secrets' must be a mapping of secret names, not \(describe(node))")
            gaps.wholeSections.insert("secrets")
            return [:]
        }
        var secrets: [String: Secret] = [:]
        for pair in pairs {
            guard let name = declaredName(pair.key, "secret name") else { continue }
            let context = "secret '\(name)'"
            let keys = ["env", "file", "prompt", "simulator"]
            guard let members = mapping(pair.value, allowed: keys, in: context) else {
                gaps.secrets.insert(name)
                continue
            }
            let sources = ["env", "file", "prompt"].filter { members[$0] != nil }
            guard sources.count == 1 else {
                report(pair.value, "\(context) takes exactly one of 'env', 'file' or 'prompt'")
                gaps.secrets.insert(name)
                continue
            }
            if let prompt = members["prompt"], boolean(prompt, "'prompt'") == false {
                report(
                    prompt,
                    "'prompt' can only be true; leave it out to read the secret elsewhere"
                )
            }
            let source: Secret.Source
            switch sources[0] {
            case "env": source = .environment(members["env"].flatMap { string($0, "'env'") } ?? "")
            case "file": source = .file(members["file"].flatMap { string($0, "'file'") } ?? "")
            default: source = .prompt
            }
            let simulator = members["simulator"].flatMap { string($0, "'simulator'") }
            secrets[name] = Secret(
                name: name,
                source: source,
                simulatorValue: simulator,
                mark: pair.value.mark
            )
        }
        return secrets
    }

    private mutating func decodeWindow(_ node: Node) -> Window? {
        guard let members = mapping(node, allowed: ["closes", "reserve"], in: "'window'") else {
            return nil
        }
        guard let closesNode = members["closes"] else {
            report(node, "'window' needs 'closes', an RFC 3339 time such as 2026-12-05T04:00:00Z")
            return nil
        }
        guard let text = closesNode.text, let closes = RFC3339.seconds(text) else {
            report(
                closesNode,
                "'closes' must be an RFC 3339 time such as 2026-12-05T04:00:00Z, not \(describe(closesNode))"
            )
            return nil
        }
        let reserve = members["reserve"].flatMap { duration($0, "'reserve'") } ?? 0
        return Window(closes: closes, closesText: text, reserve: reserve)
    }

    private mutating func decodeDefaults(_ node: Node) -> Defaults {
        let keys = ["retry", "timeout", "attempt-timeout", "on-error"]
        guard let members = mapping(node, allowed: keys, in: "'defaults'") else {
            return Defaults()
        }
        let defaults = Defaults(
            retry: members["retry"].flatMap { decodeRetry($0) },
            timeout: members["timeout"].flatMap { duration($0, "'timeout'") },
            attemptTimeout: members["attempt-timeout"].flatMap {
                duration($0, "'attempt-timeout'")
            },
            onError: members["on-error"].map { decodeErrorRules($0) } ?? []
        )
        if let limit = defaults.timeout, let seconds = defaults.attemptTimeout, seconds > limit,
            let node = members["attempt-timeout"], let text = node.text,
            let limitText = members["timeout"]?.text
        {
            report(
                node,
                "the 'attempt-timeout' of 'defaults' (\(text)) is longer than its 'timeout' (\(limitText)); \(Self.attemptOutlastsStep)"
            )
        }
        return defaults
    }
}
