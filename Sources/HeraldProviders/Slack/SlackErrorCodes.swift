import HeraldCore

/// What a Slack error string means for a delivery.
enum SlackErrorRule: Sendable, Hashable {
    /// A retry cannot fix it.
    case permanent(FailureReason)
    /// Transient; `ambiguous` when Slack may have posted the message anyway.
    case retry(FailureReason, ambiguous: Bool)
    /// Transient but slow to clear (a workspace migration): retry no sooner than `SlackErrorCodes.longDelay`.
    case retryLater(FailureReason)
}

/// Slack's error strings and how Herald treats them (providers.md §1.1, §1.2, §8).
///
/// Vendor references: https://api.slack.com/methods/chat.postMessage#errors and
/// https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks.
/// Codes missing from these tables are permanent: an unknown code is logged for review, never looped on.
enum SlackErrorCodes {
    /// How long a `retryLater` code waits at least (a workspace migration takes minutes).
    static let longDelay: Double = 15 * 60

    /// `chat.postMessage` `error` codes (`{"ok":false,"error":…}`).
    static let api: [String: SlackErrorRule] = {
        var rules: [String: SlackErrorRule] = [:]
        // The channel is gone, the bot is not in it, or a policy forbids posting: fix the destination.
        for code in [
            "channel_not_found", "not_in_channel", "is_archived", "restricted_action",
            "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
            "restricted_action_non_threadable_channel", "posting_to_general_channel_denied", "ekm_access_denied",
        ] {
            rules[code] = .permanent(.configuration)
        }
        // The token is missing, revoked or lacks a scope. `token_expired` would need token rotation,
        // which Herald does not do, so it is permanent too.
        for code in [
            "not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired", "no_permission",
            "missing_scope", "not_allowed_token_type", "access_denied", "accesslimited", "enterprise_is_restricted",
            "two_factor_setup_required",
        ] {
            rules[code] = .permanent(.authentication)
        }
        // The payload is wrong: a rendering bug.
        for code in [
            "msg_too_long", "no_text", "too_many_attachments", "invalid_blocks", "invalid_blocks_format",
            "invalid_attachments", "invalid_arguments", "invalid_arg_name", "invalid_array_arg", "invalid_charset",
            "invalid_form_data", "invalid_post_type", "missing_post_type", "invalid_json", "json_not_object",
            "as_user_not_supported", "deprecated_endpoint", "method_deprecated",
        ] {
            rules[code] = .permanent(.invalidPayload)
        }
        rules["ratelimited"] = .retry(.rateLimited, ambiguous: false)
        rules["rate_limited"] = .retry(.rateLimited, ambiguous: false)
        rules["service_unavailable"] = .retry(.serverError, ambiguous: false)
        // Slack got a missing or cut-off body: resending is safe.
        rules["request_timeout"] = .retry(.timeout, ambiguous: false)
        // Slack documents that part of the operation may have succeeded.
        rules["internal_error"] = .retry(.serverError, ambiguous: true)
        rules["fatal_error"] = .retry(.serverError, ambiguous: true)
        // The workspace is being migrated into an Enterprise Grid organization.
        rules["team_added_to_org"] = .retryLater(.serverError)
        rules["org_login_required"] = .retryLater(.serverError)
        return rules
    }()

    /// Incoming-webhook plain-text error bodies. Sources disagree on the status of some strings, so the body
    /// decides before the status does.
    static let webhook: [String: SlackErrorRule] = {
        var rules: [String: SlackErrorRule] = [:]
        for code in [
            "invalid_payload", "user_not_found", "too_many_attachments", "no_text",
            "missing_text_or_fallback_or_attachments", "invalid_blocks", "invalid_blocks_format",
        ] {
            rules[code] = .permanent(.invalidPayload)
        }
        rules["invalid_token"] = .permanent(.authentication)
        // The hook, its channel or its workspace is gone or blocked: re-provision the hook.
        for code in [
            "no_service_id", "action_prohibited", "posting_to_general_channel_denied", "no_service", "no_team",
            "channel_not_found", "no_active_hooks", "channel_is_archived", "team_disabled",
        ] {
            rules[code] = .permanent(.configuration)
        }
        rules["rollup_error"] = .retry(.serverError, ambiguous: false)
        return rules
    }()
}
