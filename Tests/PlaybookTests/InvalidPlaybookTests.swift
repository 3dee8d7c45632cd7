import ChkflowCore
import Playbook
import Testing

/// Every invalid fixture with the exact problems chkflow reports for it, sorted by position.
///
/// Each fixture under Fixtures/invalid says on its first line what it breaks, and on its second
/// whether the JSON Schema rejects it too (scripts/check-schemas.py checks that side).
@Suite struct InvalidPlaybookTests {
    static let cases: [(fixture: String, expected: [String])] = [
        ("top-level-list", ["3:1: the playbook must be a mapping, not a list"]),
        (
            "unknown-top-level-key",
            [
                "3:1: the playbook needs 'steps'",
                "5:1: unknown key 'step' in the playbook; did you mean 'steps'?",
            ]
        ),
        (
            "missing-version",
            ["3:1: the playbook needs 'chkflow: 1' (the version of the playbook language)"]
        ),
        ("wrong-version", ["3:10: this chkflow reads playbook language version 1, not 2"]),
        ("missing-name", ["3:1: the playbook needs a 'name'"]),
        ("empty-name", ["4:7: 'name' must not be empty"]),
        ("description-list", ["5:14: 'description' must be a string, not a list"]),
        ("missing-steps", ["3:1: the playbook needs 'steps'"]),
        ("empty-steps", ["5:8: 'steps' is empty; a playbook needs at least one step"]),
        ("steps-mapping", ["6:3: 'steps' must be a list, not a mapping"]),
        ("inputs-list", ["8:9: 'inputs' must be a mapping of input names, not a list"]),
        (
            "input-bad-name",
            [
                "9:3: input name 'target version' must start with a letter and hold only letters, digits, '-' and '_'"
            ]
        ),
        (
            "input-unknown-key",
            ["9:13: unknown key 'defualt' in input 'version'; did you mean 'default'?"]
        ),
        (
            "input-bad-type",
            [
                "9:19: the type of input 'version' must be one of string, integer, boolean or list, not 'float'"
            ]
        ),
        (
            "input-integer-default-text",
            ["9:35: the default of input 'count' must be a whole number, not 'ten'"]
        ),
        (
            "input-boolean-default-text",
            ["9:34: the default of input 'logs' must be true or false, not 'yes'"]
        ),
        (
            "input-list-default-nested",
            [
                "11:18: the items of the default of input 'domains' must be single values, not a mapping"
            ]
        ),
        (
            "input-list-default-scalar",
            ["9:34: the default of input 'domains' must be a list, not 'a'"]
        ),
        (
            "input-pattern-invalid",
            ["9:22: the pattern of input 'version' is not a valid regular expression"]
        ),
        (
            "input-default-against-pattern",
            ["9:42: the default of input 'version' does not match its pattern 'R[0-9]+'"]
        ),
        ("server-without-url", ["7:5: server 'primary' needs a 'url'"]),
        ("server-unknown-key", ["8:5: unknown key 'tsl' in server 'primary'; did you mean 'tls'?"]),
        (
            "server-url-ftp",
            ["7:10: a server url must start with https://, not 'ftp://mgmt.example.net'"]
        ),
        (
            "server-url-plain-http",
            [
                "7:10: plain http:// is accepted only for this machine (127.0.0.1, ::1, localhost); use https:// for 'http://mgmt.example.net'"
            ]
        ),
        (
            "server-url-credentials",
            ["7:10: a server url must not hold a user name or password; use a login step"]
        ),
        (
            "tls-two-settings",
            [
                "8:10: the tls of server 'primary' takes one of 'fingerprint', 'ca-file' or 'insecure'"
            ]
        ),
        (
            "tls-short-fingerprint",
            [
                "8:24: 'fingerprint' must be a SHA-256 fingerprint: 64 hex digits, with or without ':' after each pair"
            ]
        ),
        ("tls-insecure-yes", ["8:21: 'insecure' must be true or false, not 'yes'"]),
        ("limits-zero-requests", ["8:35: 'requests-per-second' must be a positive number, not 0"]),
        (
            "limits-fraction-logins",
            ["8:33: 'logins-per-minute' must be a whole number of at least 1, not 1.5"]
        ),
        (
            "limits-unknown-key",
            ["8:14: unknown key 'exports-at-onse' in 'limits'; did you mean 'exports-at-once'?"]
        ),
        (
            "secret-two-sources",
            ["9:13: secret 'password' takes exactly one of 'env', 'file' or 'prompt'"]
        ),
        (
            "secret-no-source",
            ["9:13: secret 'password' takes exactly one of 'env', 'file' or 'prompt'"]
        ),
        (
            "secret-prompt-false",
            ["9:22: 'prompt' can only be true; leave it out to read the secret elsewhere"]
        ),
        ("secret-env-list", ["9:19: 'env' must be a string, not a list"]),
        (
            "window-without-closes",
            ["8:9: 'window' needs 'closes', an RFC 3339 time such as 2026-12-05T04:00:00Z"]
        ),
        (
            "window-bad-closes",
            [
                "8:18: 'closes' must be an RFC 3339 time such as 2026-12-05T04:00:00Z, not the string '2026-12-05 04:00'"
            ]
        ),
        (
            "window-bad-reserve",
            ["8:51: 'reserve' must be a duration such as 90s, 20m or 3h, not '30 minutes'"]
        ),
        (
            "window-unknown-key",
            [
                "8:9: 'window' needs 'closes', an RFC 3339 time such as 2026-12-05T04:00:00Z",
                "8:10: unknown key 'closed' in 'window'; did you mean 'closes'?",
            ]
        ),
        ("defaults-unknown-key", ["9:3: unknown key 'retries' in 'defaults'"]),
        (
            "defaults-retry-without-on",
            ["9:10: 'retry' needs 'on', the errors to retry (codes, HTTP statuses or transport)"]
        ),
        (
            "defaults-bad-timeout",
            ["9:12: 'timeout' must be a duration such as 90s, 20m or 3h, not 'forever'"]
        ),
        (
            "defaults-bad-attempt-timeout",
            ["9:20: 'attempt-timeout' must be a duration such as 90s, 20m or 3h, not 30"]
        ),
        (
            "defaults-attempt-timeout-longer-than-timeout",
            [
                "10:20: the 'attempt-timeout' of 'defaults' (15m) is longer than its 'timeout' (10m); an attempt cannot outlast its step"
            ]
        ),
        ("step-scalar", ["11:5: a step must be a mapping, not 'logout'"]),
        ("step-without-id", ["11:5: every step needs an 'id'"]),
        (
            "step-bad-id",
            [
                "11:9: step id '1st' must start with a letter and hold only letters, digits, '-' and '_'"
            ]
        ),
        (
            "step-without-kind",
            [
                "11:5: step 'nothing' says what to do with none of: login, logout, verify, export, wait, call, assert, for-each"
            ]
        ),
        (
            "step-two-kinds",
            [
                "11:5: step 'x' has more than one of: login, logout, verify, export, wait, call, assert, for-each"
            ]
        ),
        ("step-unknown-key", ["12:5: unknown key 'need' in a step; did you mean 'needs'?"]),
        ("step-duplicate-id", ["11:5: duplicate step id 'login' (first at 9:5)"]),
        (
            "step-when-and-if",
            ["11:5: step 'x' has both 'when' and 'if'; they mean the same, keep one"]
        ),
        (
            "step-condition-plain-text",
            [
                "12:9: 'if' is plain text, which is always true; write it as an expression: ${{ failure() }}"
            ]
        ),
        (
            "step-condition-mixed-text",
            [
                "12:9: 'if' mixes text with expressions, which makes text that is always true; put the whole condition inside one ${{ }}"
            ]
        ),
        ("step-condition-number", ["12:11: 'when' must be true, false or an expression, not 1"]),
        (
            "step-bad-timeout",
            ["12:14: 'timeout' must be a duration such as 90s, 20m or 3h, not 'soon'"]
        ),
        ("step-bad-expect", ["12:13: 'expect' must be a duration such as 90s, 20m or 3h, not 45"]),
        (
            "step-bad-attempt-timeout",
            ["12:22: 'attempt-timeout' must be a duration such as 90s, 20m or 3h, not 'soon'"]
        ),
        (
            "step-zero-attempt-timeout",
            ["10:22: 'attempt-timeout' must be longer than zero, not '0s'"]
        ),
        (
            "step-negative-attempt-timeout",
            ["13:22: 'attempt-timeout' must be a duration such as 90s, 20m or 3h, not '-30s'"]
        ),
        (
            "attempt-timeout-longer-than-timeout",
            [
                "13:22: step 'e' has an 'attempt-timeout' of 90s, longer than its 'timeout' of 1m; an attempt cannot outlast its step"
            ]
        ),
        (
            "attempt-timeout-longer-than-default-timeout",
            [
                "12:22: step 'e' has an 'attempt-timeout' of 1h, longer than the 'timeout' of 20m it takes from 'defaults'; an attempt cannot outlast its step"
            ]
        ),
        (
            "wait-attempt-timeout",
            [
                "13:22: step 'w' cannot have 'attempt-timeout': a wait sends no request to try again; its own 'timeout' limits the wait"
            ]
        ),
        (
            "assert-attempt-timeout",
            ["12:22: step 'x' cannot have 'attempt-timeout': it sends no request"]
        ),
        ("step-needs-mapping", ["12:13: 'needs' must be a string, not a mapping"]),
        (
            "step-loop-key-outside-loop",
            ["11:5: step 'x' has 'max-parallel', which belongs to a 'for-each' step"]
        ),
        ("step-session-on-assert", ["12:14: step 'x' cannot have 'session': it sends no request"]),
        (
            "login-without-password",
            ["11:7: the login of step 'login' needs 'user' and 'password', or 'api-key'"]
        ),
        (
            "login-key-and-password",
            ["10:12: the login of step 'login' takes 'api-key' or 'user' and 'password', not both"]
        ),
        (
            "login-unknown-key",
            [
                "10:12: the login of step 'login' needs 'user' and 'password', or 'api-key'",
                "10:26: unknown key 'pasword' in the login of step 'login'; did you mean 'password'?",
            ]
        ),
        (
            "login-session-timeout-short",
            ["10:42: 'session-timeout' must be a whole number of seconds from 10 to 3600, not 5"]
        ),
        ("login-read-only-text", ["10:36: 'read-only' must be true or false, not 'maybe'"]),
        (
            "login-unknown-server",
            [
                "10:21: step 'login' logs in to server 'primry', which 'servers' does not define; did you mean 'primary'?"
            ]
        ),
        (
            "login-without-servers",
            ["6:5: step 'login' logs in, but the playbook defines no 'servers' to log in to"]
        ),
        ("login-server-not-named", ["11:5: step 'login' must name its 'server': a or b"]),
        ("logout-with-fields", ["12:14: unknown key 'discard' in the logout of step 'logout'"]),
        (
            "export-without-file-path",
            ["13:7: an export needs 'file-path' (only a pre-export verification may leave it out)"]
        ),
        ("export-empty-file-path", ["13:18: 'file-path' must be a non-empty string, not ''"]),
        (
            "export-not-mapping",
            ["12:13: the export of step 'e' must be a mapping, not '/var/log/x.tgz'"]
        ),
        (
            "verify-numeric-version",
            ["13:16: 'version' must be a target version such as R81.20 or R82, not 82"]
        ),
        (
            "export-three-part-version",
            ["14:16: 'version' must be a target version such as R81.20 or R82, not 'R81.20.1'"]
        ),
        (
            "export-zero-days-of-logs",
            ["15:21: 'days-of-logs' must be a positive whole number of days, not 0"]
        ),
        (
            "export-days-of-logs-text",
            ["14:21: 'days-of-logs' must be a positive whole number of days, not 'ten'"]
        ),
        ("export-include-logs-yes", ["14:21: 'include-logs' must be true or false, not 'yes'"]),
        (
            "export-domain-backup-without-domain",
            ["13:7: 'is-domain-backup' needs 'domain-name' (the domain to back up)"]
        ),
        (
            "export-domain-backup-and-smc-to-mds",
            ["13:7: 'is-domain-backup' and 'is-smc-to-mds' cannot both be true"]
        ),
        (
            "export-unknown-field",
            [
                "14:7: export-management has no field 'include-log' (in the export of step 'e'); did you mean 'include-logs'?"
            ]
        ),
        (
            "export-verification-only-field",
            ["14:7: use a 'verify' step for a pre-export verification, not this field"]
        ),
        (
            "verify-unknown-field",
            [
                "13:7: export-management has no field 'verify-all-server' (in the verify of step 'v'); did you mean 'verify-all-servers'?"
            ]
        ),
        (
            "wait-without-task",
            ["12:11: the wait of step 'w' needs 'task', the task-id to wait for"]
        ),
        (
            "wait-bad-timeout",
            ["12:32: 'timeout' must be a duration such as 90s, 20m or 3h, not 20"]
        ),
        ("call-without-command", ["12:11: the call of step 'c' needs 'command'"]),
        (
            "call-export-management",
            ["13:16: use an 'export' or a 'verify' step for export-management, not 'call'"]
        ),
        (
            "call-bad-command",
            [
                "13:16: 'command' must be a management API command name such as show-domains, not 'Show Domains'"
            ]
        ),
        ("call-body-list", ["14:13: 'body' must be a mapping, not a list"]),
        ("call-wait-for-task-text", ["12:52: 'wait-for-task' must be true or false, not 'always'"]),
        (
            "assert-without-that",
            ["12:13: the assert of step 'a' needs 'that', the condition to hold"]
        ),
        (
            "assert-plain-text",
            [
                "13:13: 'that' is plain text, which is always true; write it as an expression: ${{ steps.login.status == 'succeeded' }}"
            ]
        ),
        (
            "for-each-without-steps",
            ["11:5: the for-each step 'each' needs 'steps', the steps to run per item"]
        ),
        ("for-each-empty-steps", ["13:12: the for-each step 'each' has no steps"]),
        (
            "for-each-mapping",
            ["12:15: 'for-each' must be a list or one expression that gives a list, not a mapping"]
        ),
        (
            "for-each-text",
            ["12:15: 'for-each' must be a list or one expression that gives a list, not 'a, b'"]
        ),
        (
            "for-each-reserved-name",
            [
                "13:9: 'as' must be a plain name other than inputs, env, secrets or steps, not 'steps'"
            ]
        ),
        (
            "for-each-shadowed-name",
            [
                "14:9: the for-each step 'inner' names its item 'item', as an enclosing for-each step does; give it another name with 'as'"
            ]
        ),
        (
            "for-each-zero-parallel",
            ["13:19: 'max-parallel' must be a whole number of at least 1, not 0"]
        ),
        ("for-each-fail-fast-text", ["13:16: 'fail-fast' must be true or false, not 'soon'"]),
        ("for-each-duplicate-inner-id", ["14:9: duplicate step id 'login' (first at 9:5)"]),
        (
            "for-each-inner-read-from-outside",
            [
                "18:13: step 'after' reads step 'inner', which runs inside the for-each step 'each' and cannot be seen from outside it"
            ]
        ),
        (
            "for-each-item-outside",
            ["18:48: step 'after' reads 'domain', which is not inputs, env, secrets or steps"]
        ),
        ("on-error-mapping", ["13:15: 'on-error' must be a list of rules, not a mapping"]),
        (
            "on-error-unknown-code",
            [
                "14:16: 'err_to_many_requests' is not an error code Check Point lists; did you mean 'err_too_many_requests'? (see 'chkflow codes')"
            ]
        ),
        (
            "on-error-pattern-matches-nothing",
            [
                "14:16: the pattern 'err_nothing_*' matches no error code Check Point lists (see 'chkflow codes')"
            ]
        ),
        (
            "on-error-no-match",
            ["14:9: an 'on-error' rule needs 'code', 'status' or 'transport: true'"]
        ),
        (
            "on-error-no-then",
            ["14:9: an 'on-error' rule needs 'then' (retry, relogin, continue or fail) or 'retry'"]
        ),
        (
            "on-error-bad-then",
            ["14:37: 'then' must be retry, relogin, continue or fail, not 'ignore'"]
        ),
        (
            "on-error-retry-and-fail",
            ["14:50: an 'on-error' rule with 'retry' retries; it cannot also say 'then: fail'"]
        ),
        (
            "on-error-retry-with-on",
            [
                "15:21: the retry of an 'on-error' rule takes no 'on': the rule's 'code', 'status' or 'transport' say what it retries"
            ]
        ),
        (
            "on-error-status-200",
            ["14:18: an HTTP status to match must be between 400 and 599, not 200"]
        ),
        ("retry-zero-attempts", ["13:38: 'attempts' must be a whole number of at least 1, not 0"]),
        (
            "retry-unknown-key",
            ["13:28: unknown key 'attempt' in 'retry'; did you mean 'attempts'?"]
        ),
        (
            "retry-bad-budget",
            ["13:36: 'budget' must be a duration such as 90s, 20m or 3h, not 'lots'"]
        ),
        ("backoff-factor-below-one", ["15:25: 'factor' must be at least 1, not 0.5"]),
        ("backoff-bad-jitter", ["15:25: 'jitter' must be 'full' or 'none', not 'half'"]),
        ("backoff-max-below-initial", ["15:35: 'max' must not be shorter than 'initial'"]),
        ("reference-unknown-step", ["13:13: step 'w' reads step 'exprt', which does not exist"]),
        (
            "reference-unknown-output",
            [
                "13:13: step 'w' reads 'steps.login.task-id', but a login step has no output 'task-id' (it has status, outcome, api-server-version, url, session-timeout, response)"
            ]
        ),
        (
            "reference-unknown-input",
            [
                "15:16: step 'v' reads input 'target-versoin', which 'inputs' does not declare; did you mean 'target-version'?"
            ]
        ),
        (
            "reference-unknown-secret",
            ["10:37: step 'login' reads secret 'pasword', which 'secrets' does not declare"]
        ),
        (
            "reference-unknown-root",
            [
                "13:16: step 'v' reads 'input', which is not inputs, env, secrets or steps; did you mean 'inputs'?"
            ]
        ),
        ("reference-own-output", ["13:13: step 'w' reads its own outputs; use an earlier step"]),
        (
            "needs-unknown-step",
            ["12:13: step 'logout' needs step 'lgin', which does not exist; did you mean 'login'?"]
        ),
        ("needs-itself", ["12:12: step 'logout' needs itself"]),
        ("expression-syntax", ["13:29: invalid expression: expected a name after '.'"]),
        ("expression-unclosed", ["13:17: invalid expression: '${{' without a closing '}}'"]),
        (
            "function-unknown",
            ["13:13: step 'a' calls unknown function 'sucess()'; did you mean 'success()'?"]
        ),
        (
            "function-arity",
            ["13:13: step 'a' calls contains() with 1 argument; it takes 2 arguments"]
        ),
        (
            "function-arity-status",
            ["12:9: step 'logout' calls always() with 1 argument; it takes no arguments"]
        ),
        ("cycle-of-two", ["11:5: the steps wait for each other in a cycle: a -> b -> a"]),
        (
            "cycle-through-references",
            ["11:5: the steps wait for each other in a cycle: a -> c -> b -> a"]
        ),
        (
            "session-without-login",
            [
                "9:5: step 'domains' sends requests, but the playbook has no login step to start a session"
            ]
        ),
        (
            "session-ambiguous",
            ["13:5: step 'domains' must say which session it uses with 'session': login or global"]
        ),
        (
            "session-not-a-login",
            [
                "14:14: step 'domains' uses session 'check', but 'check' is an assert step, not a login step"
            ]
        ),
        (
            "session-unknown",
            ["12:14: step 'domains' uses session 'lgin', but there is no step 'lgin'"]
        ),
        (
            "many-problems",
            [
                "10:12: the login of step 'login' needs 'user' and 'password', or 'api-key'",
                "12:14: 'timeout' must be a duration such as 90s, 20m or 3h, not 'soon'",
                "13:13: an export needs 'file-path' (only a pre-export verification may leave it out)",
                "13:28: 'days-of-logs' must be a positive whole number of days, not -3",
                "16:13: step 'exported' reads step 'exprt', which does not exist; did you mean 'export'?",
                "18:23: step 'logout' needs step 'nowhere', which does not exist",
            ]
        ),
        // What could not be read is reported once, not again where it is used.
        (
            "broken-step-is-not-reported-again",
            ["12:11: the wait of step 'exported' needs 'task', the task-id to wait for"]
        ),
        (
            "broken-secret-is-not-reported-again",
            ["9:13: secret 'password' takes exactly one of 'env', 'file' or 'prompt'"]
        ),
        (
            "broken-login-is-not-reported-again",
            ["10:12: the login of step 'login' must be a mapping, not 'admin'"]
        ),
    ]

    @Test(arguments: cases)
    func reportsEveryProblemExactly(fixture: String, expected: [String]) throws {
        #expect(try problems(inFixture: "invalid/\(fixture).yaml") == expected)
    }

    @Test func everyInvalidFixtureIsInTheTable() throws {
        let names = try fixtureNames(in: "invalid")
        #expect(names == Self.cases.map(\.fixture).sorted())
        #expect(names.count >= 60)
    }
}
