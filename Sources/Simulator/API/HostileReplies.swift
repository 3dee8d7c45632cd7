import ChkflowCore

/// Replies of a server that misbehaves: too large, cut short, not JSON, of the wrong shape.
extension SimulatedAPI {
    /// Whether a fault lets the command run before it bends the reply.
    static func runsCommand(_ action: FaultAction) -> Bool {
        switch action {
        case .nonJSONReply(let status): status == 200
        case .neverAnswer: false
        default: true
        }
    }

    /// The reply a hostile fault sends in place of `reply`, and whether the connection closes
    /// after it.
    static func hostileReply(
        _ action: FaultAction,
        to reply: JSON
    ) -> (HTTPResponse, close: Bool) {
        switch action {
        case .hugeReply(let bytes):
            // Spliced as bytes: building a string this large through JSON would take seconds.
            var body = reply.objectValue == nil ? Array("{}".utf8) : reply.serializedBytes()
            body.removeLast()
            body.append(contentsOf: (body.count > 1 ? ",\"padding\":\"" : "\"padding\":\"").utf8)
            body.append(
                contentsOf: [UInt8](repeating: UInt8(ascii: "x"), count: max(0, bytes - body.count))
            )
            body.append(contentsOf: "\"}".utf8)
            return (HTTPResponse(status: 200, body: body), false)
        case .truncatedReply:
            let body = reply.serializedBytes()
            return (HTTPResponse(status: 200, body: Array(body.prefix(body.count / 2))), true)
        case .nonJSONReply(let status):
            let page = HTTPResponse(status: status, body: hostilePage, contentType: "text/html")
            return (page, false)
        case .wrongShape(let shape):
            return (HTTPResponse(status: 200, body: bend(reply, shape).serializedBytes()), false)
        case .taskGoesBackwards:
            return (HTTPResponse(status: 200, body: backwards(reply).serializedBytes()), false)
        default:
            return (HTTPResponse(status: 200, body: reply.serializedBytes()), false)
        }
    }

    private static func bend(_ reply: JSON, _ shape: WrongShape) -> JSON {
        switch shape {
        case .tasksEmpty:
            var members = reply.objectValue ?? [:]
            members["tasks"] = []
            return .object(members)
        case .taskWithoutStatus:
            return mapTasks(reply) { task in task["status"] = nil }
        case .numbersAsStrings:
            return stringifyingNumbers(reply)
        }
    }

    private static func backwards(_ reply: JSON) -> JSON {
        mapTasks(reply) { task in
            guard task["status"]?.stringValue == TaskStatus.inProgress.rawValue,
                let percentage = task["progress-percentage"]?.intValue
            else { return }
            task["progress-percentage"] = .int(max(0, 99 - percentage))
        }
    }

    private static func mapTasks(_ reply: JSON, _ change: (inout [String: JSON]) -> Void) -> JSON {
        guard var members = reply.objectValue, let tasks = members["tasks"]?.arrayValue else {
            return reply
        }
        members["tasks"] = .array(
            tasks.map { task in
                guard var fields = task.objectValue else { return task }
                change(&fields)
                return .object(fields)
            }
        )
        return .object(members)
    }

    private static func stringifyingNumbers(_ value: JSON) -> JSON {
        switch value {
        case .int(let number): .string(String(number))
        case .double(let number): .string(String(number))
        case .array(let items): .array(items.map(stringifyingNumbers))
        case .object(let members): .object(members.mapValues(stringifyingNumbers))
        default: value
        }
    }

    /// The page a proxy or a failing web server puts in front of the API.
    static let hostilePage = Array(
        """
        <html><head><title>Error</title></head>\
        <body><h1>Something went wrong</h1></body></html>
        """.utf8
    )
}
