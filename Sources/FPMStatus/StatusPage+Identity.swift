extension StatusPage {
    /// Whether the per-worker view has the identity fields: some worker has a request id, so
    /// the pool records them (FPMServer's `PoolRuntime.recordsRequestIdentity`). A pool that does not
    /// keeps php-fpm's page field for field.
    static func showsIdentity(_ processes: [ProcessStatus]) -> Bool {
        processes.contains { !$0.requestID.isEmpty }
    }

    /// swift-fpm's own per-worker fields, after php-fpm's: the current or last request's id
    /// and trace id (FPMServer's `RequestIdentity`).
    static func identityFields(_ p: ProcessStatus) -> [(String, Value)] {
        [("request id", .string(p.requestID.isEmpty ? "-" : p.requestID)),
         ("trace id", .string(p.traceID.isEmpty ? "-" : p.traceID))]
    }
}
