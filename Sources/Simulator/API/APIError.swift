import ChkflowCore

/// A failure the simulated server answers with: an HTTP status and the Check Point error body.
struct APIError: Error, Sendable, Equatable {
    var status: Int
    var code: String
    var message: String

    var body: JSON { ["code": .string(code), "message": .string(message)] }

    static func invalidParameter(_ name: String, _ detail: String = "Invalid value") -> APIError {
        APIError(
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [\(name)]. \(detail)"
        )
    }

    static func unknownParameter(_ name: String) -> APIError {
        APIError(
            status: 400,
            code: "generic_err_invalid_parameter_name",
            message: "Unrecognized parameter [\(name)]"
        )
    }

    static func missingParameter(_ name: String) -> APIError {
        APIError(
            status: 400,
            code: "generic_err_missing_required_parameters",
            message: "Missing parameter: [\(name)]"
        )
    }

    static func objectNotFound(_ identifier: String) -> APIError {
        APIError(
            status: 404,
            code: "generic_err_object_not_found",
            message: "Requested object [\(identifier)] not found"
        )
    }

    static func commandNotFound(_ command: String) -> APIError {
        APIError(
            status: 404,
            code: "generic_err_command_not_found",
            message: "Command \(command) not found"
        )
    }

    static let loginFailed = APIError(
        status: 400,
        code: "err_login_failed",
        message: "Authentication to server failed."
    )

    static let missingSession = APIError(
        status: 401,
        code: "generic_err_missing_session_id",
        message: "Missing header: [X-chkp-sid]"
    )

    static let wrongSession = APIError(
        status: 401,
        code: "generic_err_wrong_session_id",
        message:
            "Wrong session id. Session may be expired. Please check session id and resend the request"
    )

    static let expiredSession = APIError(
        status: 401,
        code: "generic_err_session_expired",
        message: "Session expired"
    )

    static let notSystemData = APIError(
        status: 403,
        code: "err_not_a_system_domain_session",
        message: "This command is available only in the System Data domain"
    )

    static let tooManyRequests = APIError(
        status: 429,
        code: "err_too_many_requests",
        message: "Too many requests in a given amount of time"
    )

    static func notImplemented(_ message: String) -> APIError {
        APIError(status: 501, code: "not_implemented", message: message)
    }
}
