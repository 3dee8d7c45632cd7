import ChkflowCore
import Testing

@testable import ManagementAPI

@Suite("Error replies")
struct APIErrorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var status: Int
        var body: String
        var description: String
        var code: String?
        var testDescription: String { "HTTP \(status) \(body.prefix(30))" }
    }

    static let cases: [Case] = [
        Case(
            status: 400,
            body: #"""
                {"code":"err_validation_failed","message":"Validation failed with 1 warning and 1 error",
                 "warnings":[{"message":"Multiple objects have the same IP address 10.20.30.40"}],
                 "errors":[{"message":"More than one object named 'TestHost' exists."}]}
                """#,
            description:
                "export-management: err_validation_failed (HTTP 400): Validation failed with 1 warning"
                + " and 1 error (error: More than one object named 'TestHost' exists.; warning:"
                + " Multiple objects have the same IP address 10.20.30.40)",
            code: "err_validation_failed"
        ),
        Case(
            status: 409,
            body:
                #"{"code":"generic_err_object_locked","message":"Locked","blocking-errors":[{"message":"held by\nother","current-session":false}]}"#,
            description:
                "export-management: generic_err_object_locked (HTTP 409): Locked (blocking error: held by other)",
            code: "generic_err_object_locked"
        ),
        Case(
            status: 400,
            body:
                #"{"code":"err_too_many_requests","message":"Too many requests in a given amount of time","errors":"plain string"}"#,
            description:
                "export-management: err_too_many_requests (HTTP 400): Too many requests in a given"
                + " amount of time (error: plain string)",
            code: "err_too_many_requests"
        ),
        Case(
            status: 403,
            body: "<html><body>Forbidden</body></html>",
            description:
                "export-management: HTTP 403: the management server accepts API calls only from allowed"
                + " addresses and refused this one; in SmartConsole open Manage & Settings > Blades >"
                + " Management API > Advanced Settings, allow this client's address (or all IP"
                + " addresses), publish, then run `api restart` on the management server"
        ),
        Case(
            status: 503,
            body: "Service Unavailable",
            description:
                "export-management: HTTP 503: the Management API server is down or still starting;"
                + " run `api status` on the management server and try again once it reports the API"
                + " as started"
        ),
        Case(
            status: 502,
            body: "",
            description:
                "export-management: HTTP 502: the server answered HTTP 502 with a body that is not JSON"
        ),
        Case(
            status: 500,
            body: #"{"code":"generic_error"}"#,
            description: "export-management: generic_error (HTTP 500): the server gave no message",
            code: "generic_error"
        ),
    ]

    @Test(arguments: cases)
    func decodesErrorBodies(_ example: Case) {
        let error = APIError.fromReply(
            command: "export-management",
            status: example.status,
            body: Array(example.body.utf8)
        )
        #expect(error.kind == .server)
        #expect(error.httpStatus == example.status)
        #expect(error.code == example.code)
        #expect(error.requestMayHaveReachedServer)
        #expect(error.description == example.description)
    }

    @Test func keepsTheDetailArraysApart() {
        let body =
            #"{"code":"err_validation_failed","message":"m","errors":[{"message":"e1"},{"message":"e2"}],"warnings":[{"message":"w"}],"blocking-errors":[{"message":"b"}]}"#
        let error = APIError.fromReply(command: "publish", status: 400, body: Array(body.utf8))
        #expect(error.errors == ["e1", "e2"])
        #expect(error.warnings == ["w"])
        #expect(error.blockingErrors == ["b"])
    }

    @Test(arguments: [
        ("generic_err_session_expired", ErrorClass.session, true),
        ("generic_err_wrong_session_id", .session, true),
        ("generic_err_missing_session_id", .session, true),
        ("err_too_many_requests", .transient, false),
        ("err_some_future_code", .permanent, false),
    ])
    func classifiesCodes(code: String, errorClass: ErrorClass, isSession: Bool) {
        let error = APIError(
            kind: .server,
            command: "c",
            httpStatus: 400,
            code: code,
            message: "m",
            requestMayHaveReachedServer: true
        )
        #expect(error.errorClass == errorClass)
        #expect(error.isSessionError == isSession)
    }

    @Test func findsTheCatalogueEntry() {
        func make(_ code: String?) -> APIError {
            APIError(
                kind: .server,
                command: "c",
                httpStatus: 400,
                code: code,
                message: "m",
                requestMayHaveReachedServer: true
            )
        }
        #expect(make("err_too_many_requests").catalogueEntry?.errorClass == .transient)
        #expect(make("err_from_a_future_release").catalogueEntry == nil)
        #expect(make(nil).catalogueEntry == nil)
    }

    @Test func describesEveryKind() {
        func make(_ kind: APIError.Kind, _ status: Int?) -> String {
            APIError(
                kind: kind,
                command: "login",
                httpStatus: status,
                message: "m",
                requestMayHaveReachedServer: false
            ).description
        }
        #expect(make(.transport, nil) == "login: transport error: m")
        #expect(make(.tls, nil) == "login: TLS error: m")
        #expect(make(.invalidReply, 200) == "login: invalid reply (HTTP 200): m")
        #expect(make(.usage, nil) == "login: usage error: m")
        #expect(make(.server, nil) == "login: server error: m")
    }
}

@Suite("Server addresses")
struct ServerAddressTests {
    @Test(
        arguments: [
            (
                "https://mgmt.example.com", "mgmt.example.com", nil, "https://mgmt.example.com",
                false
            ),
            ("https://192.0.2.1:4434/", "192.0.2.1", 4434, "https://192.0.2.1:4434", false),
            ("http://127.0.0.1:8080", "127.0.0.1", 8080, "http://127.0.0.1:8080", true),
            ("http://127.10.0.3:8080", "127.10.0.3", 8080, "http://127.10.0.3:8080", true),
            ("http://[::1]:8080", "::1", 8080, "http://[::1]:8080", true),
            ("HTTP://LOCALHOST:1", "LOCALHOST", 1, "HTTP://LOCALHOST:1", true),
            (
                "https://cloud.example/abc-123/", "cloud.example", nil,
                "https://cloud.example/abc-123", false
            ),
            (
                "http://127.0.0.1.example.com", "127.0.0.1.example.com", nil,
                "http://127.0.0.1.example.com", false
            ),
        ] as [(String, String, Int?, String, Bool)]
    )
    func parses(url: String, host: String, port: Int?, base: String, loopback: Bool) throws {
        let address = try ServerAddress.parse(url).get()
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.base == base)
        #expect(address.isLoopback == loopback)
    }

    @Test(arguments: [
        ("ftp://host", "the server URL must start with https:// (got \"ftp://host\")"),
        ("https://user:pw@host", "the server URL must not carry a user name or password"),
        ("https://host:99999", "the server URL has no valid host and port: \"https://host:99999\""),
        ("https://", "the server URL has no valid host and port: \"https://\""),
        ("https://host/?a=b", "the server URL must not have a query or a fragment"),
    ])
    func rejects(url: String, message: String) {
        #expect(throws: AddressError.self) { try ServerAddress.parse(url).get() }
        if case .failure(let error) = ServerAddress.parse(url) { #expect(error.message == message) }
    }
}
