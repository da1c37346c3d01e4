import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

/// Walks providers.md §1.1 (incoming webhooks), §1.2 (`chat.postMessage`) and the Slack rows of §8.
@Suite("Slack classification")
struct SlackClassificationTests {
    let provider = SlackProvider(
        notifier: Fixtures.slackNotifier,
        connection: SlackConnection(token: Fixtures.slackToken)
    )

    static func api(_ code: String) -> String { #"{"ok":false,"error":"\#(code)"}"# }

    /// §1.1 and the webhook rows of §8: plain-text bodies.
    static let webhookRows: [ResponseRow] = [
        ResponseRow(200, "ok", .delivered(receipt: nil)),
        ResponseRow(200, "ok\n", .delivered(receipt: nil)),
        ResponseRow(200, "", .permanent(.invalidPayload)),
        ResponseRow(200, "okay", .permanent(.invalidPayload)),
        ResponseRow(200, "<html>maintenance</html>", .permanent(.invalidPayload)),
        ResponseRow(204, "", .permanent(.clientError)),
        ResponseRow(400, "invalid_payload", .permanent(.invalidPayload)),
        ResponseRow(400, "user_not_found", .permanent(.invalidPayload)),
        ResponseRow(400, "too_many_attachments", .permanent(.invalidPayload)),
        ResponseRow(400, "no_text", .permanent(.invalidPayload)),
        ResponseRow(400, "missing_text_or_fallback_or_attachments", .permanent(.invalidPayload)),
        ResponseRow(400, "invalid_blocks", .permanent(.invalidPayload)),
        ResponseRow(400, "invalid_blocks_format", .permanent(.invalidPayload)),
        ResponseRow(400, "no_service_id", .permanent(.configuration)),
        ResponseRow(400, "something_new", .permanent(.invalidPayload)),
        ResponseRow(403, "invalid_token", .permanent(.authentication)),
        ResponseRow(403, "action_prohibited", .permanent(.configuration)),
        ResponseRow(403, "posting_to_general_channel_denied", .permanent(.configuration)),
        ResponseRow(404, "no_service", .permanent(.configuration)),
        ResponseRow(404, "no_team", .permanent(.configuration)),
        ResponseRow(404, "channel_not_found", .permanent(.configuration)),
        ResponseRow(404, "no_active_hooks", .permanent(.configuration)),
        ResponseRow(410, "channel_is_archived", .permanent(.configuration)),
        ResponseRow(410, "team_disabled", .permanent(.configuration)),
        // Sources disagree on some statuses: the body string decides.
        ResponseRow(400, "team_disabled", .permanent(.configuration)),
        ResponseRow(403, "no_active_hooks", .permanent(.configuration)),
        ResponseRow(500, "invalid_payload", .permanent(.invalidPayload)),
        ResponseRow(429, "rate limited", .retry(.rateLimited)),
        ResponseRow(429, "", .retry(.rateLimited)),
        ResponseRow(500, "rollup_error", .retry(.serverError)),
        ResponseRow(500, "", .retry(.serverError)),
        ResponseRow(502, "<html>Bad Gateway</html>", .retry(.serverError)),
        ResponseRow(503, "", .retry(.serverError)),
        ResponseRow(404, "", .permanent(.configuration)),
        ResponseRow(401, "", .permanent(.authentication)),
        ResponseRow(301, "", .permanent(.configuration)),
        ResponseRow(418, "teapot", .permanent(.clientError)),
        ResponseRow(100, "", .permanent(.clientError)),
    ]

    /// §1.2 and the Web API rows of §8: JSON bodies.
    static let apiRows: [ResponseRow] = {
        var rows = [
            ResponseRow(
                200,
                #"{"ok":true,"channel":"C1","ts":"1700000000.000100","message":{}}"#,
                .delivered(receipt: "1700000000.000100")
            ),
            ResponseRow(
                200,
                #"{"ok":true,"ts":"1700000000.000200","warning":"missing_charset","response_metadata":{"warnings":["missing_charset"]}}"#,
                .delivered(receipt: "1700000000.000200")
            ),
            ResponseRow(200, #"{"ok":true}"#, .delivered(receipt: nil)),
            ResponseRow(429, api("ratelimited"), .retry(.rateLimited)),
            ResponseRow(200, api("ratelimited"), .retry(.rateLimited)),
            ResponseRow(200, api("rate_limited"), .retry(.rateLimited)),
            ResponseRow(200, api("service_unavailable"), .retry(.serverError)),
            ResponseRow(200, api("request_timeout"), .retry(.timeout)),
            ResponseRow(200, api("internal_error"), .retry(.serverError, ambiguous: true)),
            ResponseRow(200, api("fatal_error"), .retry(.serverError, ambiguous: true)),
            ResponseRow(200, api("team_added_to_org"), .retry(.serverError)),
            ResponseRow(200, api("org_login_required"), .retry(.serverError)),
            ResponseRow(500, api("something_broke"), .retry(.serverError)),
            ResponseRow(503, #"{"ok":false}"#, .retry(.serverError)),
            ResponseRow(200, api("brand_new_code"), .permanent(.clientError)),
            ResponseRow(200, #"{"ok":false}"#, .permanent(.clientError)),
            ResponseRow(400, api("brand_new_code"), .permanent(.invalidPayload)),
        ]
        let destination = [
            "channel_not_found", "not_in_channel", "is_archived", "restricted_action",
            "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
            "restricted_action_non_threadable_channel", "posting_to_general_channel_denied", "ekm_access_denied",
        ]
        let credentials = [
            "not_authed", "invalid_auth", "account_inactive", "token_revoked", "no_permission", "missing_scope",
            "not_allowed_token_type", "access_denied", "accesslimited", "enterprise_is_restricted",
            "two_factor_setup_required", "token_expired",
        ]
        let payload = [
            "msg_too_long", "no_text", "too_many_attachments", "invalid_blocks", "invalid_blocks_format",
            "invalid_attachments", "invalid_arguments", "invalid_arg_name", "invalid_array_arg", "invalid_charset",
            "invalid_form_data", "invalid_post_type", "missing_post_type", "invalid_json", "json_not_object",
            "as_user_not_supported", "deprecated_endpoint", "method_deprecated",
        ]
        rows += destination.map { ResponseRow(200, api($0), .permanent(.configuration)) }
        rows += credentials.map { ResponseRow(200, api($0), .permanent(.authentication)) }
        rows += payload.map { ResponseRow(200, api($0), .permanent(.invalidPayload)) }
        return rows
    }()

    @Test("Incoming webhook responses", arguments: webhookRows)
    func webhook(row: ResponseRow) {
        row.expected.verify(provider.classify(.http(.response(row.response)), now: Fixtures.now), status: row.status)
    }

    @Test("Web API responses", arguments: apiRows)
    func webAPI(row: ResponseRow) {
        row.expected.verify(provider.classify(.http(.response(row.response)), now: Fixtures.now), status: row.status)
    }

    @Test("Every Web API code in the tables is covered by a row")
    func tableCoverage() {
        let tested = Set(Self.apiRows.compactMap { try? JSONValue.parse(Data($0.body.utf8))["error"]?.stringValue })
        #expect(Set(SlackErrorCodes.api.keys).subtracting(tested).isEmpty)
        let testedHooks = Set(Self.webhookRows.map(\.body))
        #expect(Set(SlackErrorCodes.webhook.keys).subtracting(testedHooks).isEmpty)
    }

    @Test(
        "Retry-After in seconds and as an HTTP date sets the not-before time",
        arguments: [
            ("30", Fixtures.now.addingTimeInterval(30)),
            ("Mon, 23 Nov 2026 10:02:05 GMT", Fixtures.now.addingTimeInterval(120)),
        ]
    )
    func retryAfter(value: String, expected: Date) throws {
        for body in ["", Self.api("ratelimited")] {
            let response = HTTPResponse(status: 429, retryAfter: value, body: Data(body.utf8))
            guard case .failed(let error) = provider.classify(.http(.response(response)), now: Fixtures.now) else {
                Issue.record("429 was delivered")
                return
            }
            #expect(error.reason == .rateLimited)
            #expect(error.notBefore == expected)
        }
        let unavailable = HTTPResponse(status: 503, retryAfter: value)
        guard case .failed(let error) = provider.classify(.http(.response(unavailable)), now: Fixtures.now) else {
            Issue.record("503 was delivered")
            return
        }
        #expect(error.notBefore == expected)
    }

    @Test("A 429 without Retry-After retries with no floor")
    func rateLimitWithoutHeader() {
        let outcome = provider.classify(.http(.response(HTTPResponse(status: 429))), now: Fixtures.now)
        guard case .failed(let error) = outcome else {
            Issue.record("429 was delivered")
            return
        }
        #expect(error.disposition == .retry(notBefore: nil))
    }

    @Test("Workspace migrations wait at least 15 minutes", arguments: ["team_added_to_org", "org_login_required"])
    func longDelay(code: String) {
        let response = HTTPResponse(status: 200, body: Data(Self.api(code).utf8))
        guard case .failed(let error) = provider.classify(.http(.response(response)), now: Fixtures.now) else {
            Issue.record("\(code) was delivered")
            return
        }
        #expect(error.notBefore == Fixtures.now.addingTimeInterval(15 * 60))
        let later = HTTPResponse(status: 200, retryAfter: "3600", body: Data(Self.api(code).utf8))
        guard case .failed(let longer) = provider.classify(.http(.response(later)), now: Fixtures.now) else { return }
        #expect(longer.notBefore == Fixtures.now.addingTimeInterval(3600))
    }

    @Test("Details name the Slack error code")
    func details() {
        let response = HTTPResponse(
            status: 200,
            body: Data(
                #"{"ok":false,"error":"invalid_blocks","response_metadata":{"messages":["[ERROR] must be less than 3001 characters [json-pointer:/blocks/1/text/text]"]}}"#
                    .utf8
            )
        )
        guard case .failed(let error) = provider.classify(.http(.response(response)), now: Fixtures.now) else {
            Issue.record("delivered")
            return
        }
        #expect(error.detail.contains("invalid_blocks"))
        #expect(error.detail.contains("3001 characters"))
        #expect(error.detail.count <= 200)
    }

    @Test(
        "Transport failures use the shared classification",
        arguments: [
            (TransportFailure.Kind.connect, Expectation.retry(.connection)),
            (.timeout, .retry(.timeout, ambiguous: true)),
            (.transfer, .retry(.connection, ambiguous: true)),
            (.tlsConfiguration, .permanent(.configuration)),
            (.configuration, .permanent(.configuration)),
            (.unknown, .permanent(.clientError)),
        ]
    )
    func transport(kind: TransportFailure.Kind, expected: Expectation) {
        let failure = TransportFailure(kind: kind, code: 7, requestSent: true, message: "failed")
        expected.verify(provider.classify(.http(.failure(failure)), now: Fixtures.now), status: nil)
    }
}
