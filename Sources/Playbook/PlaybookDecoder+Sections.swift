import ChkflowCore
import PlaybookYAML

extension PlaybookDecoder {
    static let topLevelKeys = [
        "chkflow", "name", "description", "inputs", "servers", "secrets", "window", "defaults",
        "steps",
    ]

    /// Decodes a whole playbook; nil when anything was reported.
    mutating func decodePlaybook(_ root: Node, sha256: String) -> Playbook? {
        guard let top = mapping(root, allowed: Self.topLevelKeys, in: "the playbook") else {
            return nil
        }
        checkVersion(top["chkflow"], root: root)
        let name = top["name"].flatMap { string($0, "'name'") } ?? ""
        if top["name"] == nil { report(root, "the playbook needs a 'name'") }
        let description = top["description"].flatMap { string($0, "'description'") }
        let inputs = top["inputs"].map { decodeInputs($0) } ?? []
        let servers = top["servers"].map { decodeServers($0) } ?? [:]
        let secrets = top["secrets"].map { decodeSecrets($0) } ?? [:]
        let window = top["window"].flatMap { decodeWindow($0) }
        let defaults = top["defaults"].map { decodeDefaults($0) } ?? Defaults()
        var steps: [Step] = []
        if let stepsNode = top["steps"] {
            steps = decodeSteps(stepsNode)
        } else {
            report(root, "the playbook needs 'steps'")
        }
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

    private mutating func checkVersion(_ node: Node?, root: Node) {
        guard let node else {
            report(root, "the playbook needs 'chkflow: 1' (the version of the playbook language)")
            return
        }
        if json(of: node) != .int(1) {
            report(node, "this chkflow reads playbook language version 1, not \(describe(node))")
        }
    }

    private mutating func decodeInputs(_ node: Node) -> [Input] {
        guard let pairs = node.pairs else {
            report(node, "'inputs' must be a mapping of input names, not \(describe(node))")
            return []
        }
        return pairs.compactMap { pair in
            guard let name = pair.key.text else { return nil }
            return decodeInput(name: name, pair.value)
        }
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
                let names = Input.Kind.allCases.map(\.rawValue).joined(separator: ", ")
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
        let pattern = members["pattern"].flatMap { string($0, "the pattern of \(context)") }
        if let pattern, let defaultNode = members["default"],
            case .string(let text)? = defaultValue,
            !InputPattern.matches(pattern, text)
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

    private mutating func inputValue(_ node: Node, kind: Input.Kind, context: String) -> JSON? {
        switch kind {
        case .list:
            guard let items = node.items else {
                report(node, "the default of \(context) must be a list, not \(describe(node))")
                return nil
            }
            return .array(items.compactMap { json(of: $0) })
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
            return [:]
        }
        var servers: [String: Server] = [:]
        for pair in pairs {
            guard let name = pair.key.text else { continue }
            let context = "server '\(name)'"
            let keys = ["url", "tls", "limits"]
            guard let members = mapping(pair.value, allowed: keys, in: context) else { continue }
            guard let urlNode = members["url"] else {
                report(pair.value, "\(context) needs a 'url'")
                continue
            }
            guard let url = template(urlNode, "the url of \(context)") else { continue }
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
        guard case .string(let text)? = url.literal else { return }
        let lower = text.lowercased()
        if !lower.hasPrefix("https://"), !lower.hasPrefix("http://") {
            report(node, "a server url must start with https://, not '\(text)'")
        }
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
            return [:]
        }
        var secrets: [String: Secret] = [:]
        for pair in pairs {
            guard let name = pair.key.text else { continue }
            let context = "secret '\(name)'"
            let keys = ["env", "file", "prompt", "simulator"]
            guard let members = mapping(pair.value, allowed: keys, in: context) else { continue }
            let sources = ["env", "file", "prompt"].filter { members[$0] != nil }
            guard sources.count == 1 else {
                report(pair.value, "\(context) takes exactly one of 'env', 'file' or 'prompt'")
                continue
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
        let keys = ["retry", "timeout", "on-error"]
        guard let members = mapping(node, allowed: keys, in: "'defaults'") else {
            return Defaults()
        }
        return Defaults(
            retry: members["retry"].flatMap { decodeRetry($0) },
            timeout: members["timeout"].flatMap { duration($0, "'timeout'") },
            onError: members["on-error"].map { decodeErrorRules($0) } ?? []
        )
    }
}
