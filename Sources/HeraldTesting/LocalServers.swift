// The local vendor servers live in HeraldOutbox (product code: `herald outbox` serves them). Tests and
// benchmarks see them through HeraldTesting, under their historical names.
@_exported import HeraldOutbox

/// A local HTTP server standing in for a vendor API (see `LocalHTTPServer`).
public typealias FakeVendorServer = LocalHTTPServer
/// What the fake vendor server answers (see `LocalHTTPResponse`).
public typealias FakeResponse = LocalHTTPResponse
/// A local SMTP server (see `LocalSMTPServer`).
public typealias FakeSMTPServer = LocalSMTPServer
