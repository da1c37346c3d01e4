import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

/// Herald's own pages for end users (SPEC §11.7), reached through signed links with no login: one-click
/// unsubscribe (RFC 8058) at `/u/<token>` and the preference center at `/preferences?token=…`. Every write goes
/// through the same store operations as `PATCH`/`DELETE /api/v1/notifications/preferences/{eventKey}`
/// (`PreferenceWriter`). Generic over the request context, so the API mounts it on its router and tests on a
/// plain one.
///
/// Without a link secret (`auth.linkSecretFile` not configured) the routes still exist, so the router is the same
/// whatever the configuration, but every page answers 404 and nothing is written.
///
/// Links inside the pages (form actions, redirects) are relative, so the pages work behind a reverse proxy that
/// serves them under a path prefix of `links.publicURL`.
public struct UserPageRoutes: Sendable {
    public let writer: PreferenceWriter
    /// The catalog in force (custom keys may be added at run time).
    public let catalog: @Sendable () -> Catalog
    /// Nil when the pages are off.
    public let signer: LinkSigner?
    public let clock: any WallClock

    public init(
        store: any Store,
        catalog: @escaping @Sendable () -> Catalog,
        signer: LinkSigner?,
        clock: any WallClock = SystemWallClock()
    ) {
        self.writer = PreferenceWriter(store: store)
        self.catalog = catalog
        self.signer = signer
        self.clock = clock
    }

    /// The pages of the API built from `dependencies` (its store, catalog, clock and link signer).
    public init(dependencies: APIDependencies) {
        let catalog = dependencies.catalog
        self.init(
            store: dependencies.store,
            catalog: { catalog.current },
            signer: dependencies.linkSigner,
            clock: dependencies.clock
        )
    }

    /// The paths these routes serve (for the API's route table and OpenAPI check).
    public static let paths = ["/u/{token}", "/preferences"]

    /// Adds the four routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/u/{token}") { _, context in
            await self.confirmUnsubscribe(token: context.parameters.get("token") ?? "")
        }
        router.post("/u/{token}") { request, context in
            let body = try await request.body.collect(upTo: 16 * 1024)
            return await self.unsubscribe(token: context.parameters.get("token") ?? "", body: String(buffer: body))
        }
        router.get("/preferences") { request, _ in
            await self.preferenceCenter(
                token: request.uri.queryParameters.get("token") ?? "",
                saved: request.uri.queryParameters.get("saved"),
                reset: request.uri.queryParameters.get("reset")
            )
        }
        router.post("/preferences") { request, _ in
            let body = try await request.body.collect(upTo: 16 * 1024)
            return await self.savePreferences(
                token: request.uri.queryParameters.get("token") ?? "",
                body: String(buffer: body)
            )
        }
    }

    /// The claims of `token` for `purpose`; throws the refusal (or `.disabled` when the pages are off).
    private func verify(_ token: String, _ purpose: LinkSigner.Purpose) throws(LinkSigner.Refusal) -> LinkSigner.Claims
    {
        guard let signer else { throw .disabled }
        return try signer.verify(token, purpose: purpose, now: clock.now())
    }

    // MARK: One-click unsubscribe

    func confirmUnsubscribe(token: String) async -> Response {
        do {
            let claims = try verify(token, .unsubscribe)
            guard let key = claims.key, let channel = claims.channel else { throw LinkSigner.Refusal.malformed }
            let description = catalog().entry(for: key)?.description ?? key
            return Self.html(
                .ok,
                UserPages.unsubscribeConfirmation(
                    key: key,
                    description: description,
                    channel: channel,
                    // The page's own address: the form posts back to the link.
                    action: token
                )
            )
        } catch {
            return Self.refused(error as? LinkSigner.Refusal ?? .malformed)
        }
    }

    /// RFC 8058: the body is `List-Unsubscribe=One-Click` (form-urlencoded or as a multipart field); the
    /// user's `never` row for the key and channel is written, and the answer is 200.
    func unsubscribe(token: String, body: String) async -> Response {
        let claims: LinkSigner.Claims
        do {
            claims = try verify(token, .unsubscribe)
        } catch {
            return Self.refused(error)
        }
        guard let key = claims.key, let channel = claims.channel, Channel.personal.contains(channel) else {
            return Self.html(.badRequest, UserPages.invalidLink(.malformed))
        }
        guard Self.isOneClick(body) else {
            return Self.html(
                .badRequest,
                UserPages.page(
                    title: "Unsubscribe",
                    main: "<h1>Unsubscribe</h1><p class=\"error\" role=\"alert\">The request did not say "
                        + "List-Unsubscribe=One-Click. Nothing was changed.</p>"
                )
            )
        }
        let catalog = self.catalog()
        do {
            _ = try await writer.save(user: claims.user, key: key, channels: [channel: false], catalog: catalog)
        } catch {
            return Self.failure(error)
        }
        return Self.html(
            .ok,
            UserPages.unsubscribed(
                key: key,
                description: catalog.entry(for: key)?.description ?? key,
                channel: channel,
                // Relative to /u/<token>.
                preferencesURL: signer.map {
                    "../preferences?token="
                        + $0.token(LinkSigner.Claims(purpose: .preferences, user: claims.user, expires: claims.expires))
                }
            )
        )
    }

    static func isOneClick(_ body: String) -> Bool {
        if UserPages.formFields(body)["List-Unsubscribe"] == "One-Click" { return true }
        // multipart/form-data: a part named List-Unsubscribe whose value is One-Click.
        guard let name = body.range(of: "name=\"List-Unsubscribe\"") else { return false }
        return body[name.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("One-Click")
    }

    // MARK: Preference center

    func preferenceCenter(token: String, saved: String?, reset: String?) async -> Response {
        let claims: LinkSigner.Claims
        do {
            claims = try verify(token, .preferences)
        } catch {
            return Self.refused(error)
        }
        let catalog = self.catalog()
        do {
            let rows = try await writer.store.preferenceMatrix(user: claims.user, catalog: catalog)
            var status: String?
            if let key = saved, let entry = catalog.entry(for: key) { status = "Saved: \(entry.description)." }
            if let key = reset, let entry = catalog.entry(for: key) {
                status = "\(entry.description): back to the defaults."
            }
            return Self.html(
                .ok,
                UserPages.preferenceCenter(
                    rows: rows,
                    catalog: catalog,
                    action: "preferences?token=" + token,
                    status: status,
                    statusKey: reset ?? saved
                )
            )
        } catch {
            return Self.failure(error)
        }
    }

    /// One row's form: `key`, `action` (`save` or `reset`) and a checkbox per personal channel (unchecked boxes
    /// are absent, so every channel of the row is written). Answers 303 back to the page (post/redirect/get).
    func savePreferences(token: String, body: String) async -> Response {
        let claims: LinkSigner.Claims
        do {
            claims = try verify(token, .preferences)
        } catch {
            return Self.refused(error)
        }
        let fields = UserPages.formFields(body)
        let catalog = self.catalog()
        guard let key = fields["key"], let entry = catalog.entry(for: key), !entry.critical else {
            return Self.html(
                .badRequest,
                UserPages.page(
                    title: "Notification settings",
                    main: "<h1>Notification settings</h1><p class=\"error\" role=\"alert\">That notification cannot "
                        + "be changed here. Nothing was changed.</p>"
                )
            )
        }
        do {
            let query: String
            if fields["action"] == "reset" {
                _ = try await writer.reset(user: claims.user, key: key, catalog: catalog)
                query = "reset"
            } else {
                var channels: [Channel: Bool] = [:]
                for channel in Channel.personal { channels[channel] = fields[channel.rawValue] == "on" }
                _ = try await writer.save(user: claims.user, key: key, channels: channels, catalog: catalog)
                query = "saved"
            }
            var headers = Self.pageHeaders
            // Relative to /preferences, like the form's action.
            headers[.location] = "preferences?token=\(token)&\(query)=\(key)#form-key-\(key)"
            return Response(status: .seeOther, headers: headers)
        } catch {
            return Self.failure(error)
        }
    }

    // MARK: Responses

    static let pageHeaders: HTTPFields = {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        // The token in the address must not leak to other sites, and nothing but these forms may run.
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return headers
    }()

    /// The answer to a refused link: 400, or 404 when the pages are off.
    static func refused(_ refusal: LinkSigner.Refusal) -> Response {
        html(refusal == .disabled ? .notFound : .badRequest, UserPages.invalidLink(refusal))
    }

    static func html(_ status: HTTPResponse.Status, _ page: String) -> Response {
        Response(status: status, headers: pageHeaders, body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }

    static func failure(_ error: any Error) -> Response {
        if (error as? APIError)?.status == .notFound {
            return html(
                .notFound,
                UserPages.page(
                    title: "Not changed",
                    main: "<h1>Not changed</h1><p class=\"error\" role=\"alert\">This account is not known any more. "
                        + "Nothing was changed.</p>"
                )
            )
        }
        if error is ValidationFailure {
            return html(
                .badRequest,
                UserPages.page(
                    title: "Not changed",
                    main: "<h1>Not changed</h1><p class=\"error\" role=\"alert\">That notification is not known any "
                        + "more. Nothing was changed.</p>"
                )
            )
        }
        var response = html(
            .serviceUnavailable,
            UserPages.page(
                title: "Try again",
                main: "<h1>Try again shortly</h1><p class=\"error\" role=\"alert\">Herald could not save or read your "
                    + "settings just now. Nothing was changed.</p>"
            )
        )
        response.headers[.retryAfter] = "1"
        return response
    }
}
