/// How chkflow treats an error code when a playbook says nothing about it.
public enum ErrorClass: String, Sendable, CaseIterable {
    /// Worth trying again after a wait: the server was busy, starting or rate-limiting.
    case transient
    /// The session is gone: log in again, then repeat the request.
    case session
    /// Trying again cannot help: the request or the server state must change first.
    case permanent
}

/// One code of the Check Point Management API, with its default class and what it means.
public struct ErrorCode: Sendable, Hashable {
    public var code: String
    public var errorClass: ErrorClass
    public var meaning: String
}

/// Every error code the export-management reference (API 2.0.1) lists, with chkflow's default
/// class for each.
///
/// The list is identical on every command page of the reference. A code a server sends that is
/// not here is treated as permanent.
public enum ErrorCatalogue {
    public static let entries: [ErrorCode] = [
        .init(
            "generic_error",
            .permanent,
            "unspecified failure (R80 servers use it for most errors)"
        ),
        .init("generic_err_invalid_syntax", .permanent, "the request body is not valid JSON"),
        .init(
            "generic_err_invalid_parameter_name",
            .permanent,
            "the body names an unknown parameter"
        ),
        .init("not_implemented", .permanent, "the server does not implement this operation"),
        .init("generic_internal_error", .transient, "internal server error; may pass on a retry"),
        .init("generic_server_error", .transient, "server-side failure; may pass on a retry"),
        .init("generic_server_initializing", .transient, "the API server is still starting"),
        .init(
            "generic_err_command_not_found",
            .permanent,
            "no such command on this server version"
        ),
        .init(
            "generic_err_command_version_not_found",
            .permanent,
            "the command does not exist in the requested API version"
        ),
        .init("generic_err_invalid_api_type", .permanent, "invalid API type in the request"),
        .init(
            "generic_err_invalid_api_object_feature",
            .permanent,
            "the object does not support this feature"
        ),
        .init(
            "generic_err_missing_required_parameters",
            .permanent,
            "a required parameter is missing"
        ),
        .init(
            "generic_err_missing_required_header",
            .permanent,
            "a required HTTP header is missing"
        ),
        .init("generic_err_invalid_header", .permanent, "an HTTP header has an invalid value"),
        .init("generic_err_invalid_parameter", .permanent, "a parameter has an invalid value"),
        .init("generic_err_normalize", .permanent, "the server could not normalise the request"),
        .init("err_bad_url", .permanent, "the URL is not a valid API path"),
        .init(
            "err_unknown_api_version",
            .permanent,
            "the server does not know the API version in the URL"
        ),
        .init(
            "err_login_failed_wrong_username_or_password",
            .permanent,
            "wrong user name or password"
        ),
        .init(
            "err_login_failed_more_than_one_opened_session",
            .permanent,
            "the administrator has more than one open session"
        ),
        .init(
            "err_login_failed",
            .permanent,
            "authentication failed (credentials, lock or API permission)"
        ),
        .init("err_already_connected", .permanent, "the session is already connected"),
        .init("err_normalization_failed", .permanent, "the server could not normalise the object"),
        .init("err_validation_failed", .permanent, "validation failed; see errors and warnings"),
        .init("err_submit_failed", .permanent, "the changes could not be submitted"),
        .init("err_publish_failed", .permanent, "publish failed"),
        .init("generic_err_missing_session_id", .session, "the request carried no session id"),
        .init("generic_err_wrong_session_id", .session, "the session id is unknown to the server"),
        .init("generic_err_session_expired", .session, "the session expired (idle timeout)"),
        .init("generic_err_session_in_use", .transient, "the session is busy with another request"),
        .init("err_switch_session_failed", .permanent, "switch-session failed"),
        .init("err_connect_session_failed", .permanent, "connecting to the session failed"),
        .init("err_assign_session_failed", .permanent, "assigning the session failed"),
        .init("err_take_over_session_failed", .permanent, "take-over-session failed"),
        .init("generic_err_no_permissions", .permanent, "the administrator lacks the permission"),
        .init("err_forbidden", .permanent, "the operation is forbidden"),
        .init(
            "err_not_a_system_domain_session",
            .permanent,
            "the command runs only in a System Data session"
        ),
        .init(
            "err_inappropriate_domain_type",
            .permanent,
            "the command does not apply to this domain type"
        ),
        .init("generic_err_object_not_found", .permanent, "the object or task does not exist"),
        .init(
            "generic_err_object_field_not_unique",
            .permanent,
            "a field that must be unique is not"
        ),
        .init("generic_err_object_type_wrong", .permanent, "the object is of another type"),
        .init(
            "generic_err_object_locked",
            .transient,
            "another session holds a lock on the object"
        ),
        .init("generic_err_object_deletion", .permanent, "the object cannot be deleted"),
        .init("err_ha_invalid_operation", .permanent, "not allowed in the current HA state"),
        .init("err_policy_installation_failed", .permanent, "policy installation failed"),
        .init("err_policy_verification_failed", .permanent, "policy verification failed"),
        .init("err_rulebase_invalid_operation", .permanent, "invalid rulebase operation"),
        .init("err_installed_policy_mismatch", .permanent, "installed policy does not match"),
        .init(
            "err_server_certificate_operation_failed",
            .permanent,
            "server certificate operation failed"
        ),
        .init(
            "err_outbound_inspection_certificate_operation_failed",
            .permanent,
            "outbound inspection certificate operation failed"
        ),
        .init("err_gaia_api_login_failed", .permanent, "login to the Gaia API failed"),
        .init("err_gaia_api_send_command_failed", .permanent, "a Gaia API command failed"),
        .init("err_cme_api_send_command_failed", .permanent, "a CME API command failed"),
        .init("err_cme_api_not_running_failure", .transient, "the CME API is not running"),
        .init("err_infinity_unauthorized", .permanent, "Infinity Portal authorisation failed"),
        .init("err_infinity_network", .transient, "network failure towards the Infinity Portal"),
        .init(
            "err_too_many_requests",
            .transient,
            "rate limit hit (3 remote logins a minute per admin and domain since R81)"
        ),
    ]

    private static let byCode: [String: ErrorCode] = Dictionary(
        entries.map { ($0.code, $0) },
        uniquingKeysWith: { first, _ in first }
    )

    /// The entry for a code, or nil when the reference does not list it.
    public static func entry(for code: String) -> ErrorCode? { byCode[code] }

    /// The default class of a code; codes the reference does not list are permanent.
    public static func errorClass(of code: String) -> ErrorClass {
        byCode[code]?.errorClass ?? .permanent
    }

    /// Whether a code, or a prefix pattern ending in `*`, names at least one listed code.
    public static func matchesAny(_ pattern: String) -> Bool {
        guard pattern.hasSuffix("*") else { return byCode[pattern] != nil }
        let prefix = pattern.dropLast()
        return entries.contains { $0.code.hasPrefix(prefix) }
    }
}

extension ErrorCode {
    fileprivate init(_ code: String, _ errorClass: ErrorClass, _ meaning: String) {
        self.init(code: code, errorClass: errorClass, meaning: meaning)
    }
}
