/// A job pool (`gearman.servers`, no `listen`): its workers take Gearman jobs instead of
/// FastCGI connections, so what concerns a listening socket or an HTTP request is a mistake in
/// its section, reported at the line that set it rather than ignored.
extension ConfigurationValidation {
    /// Directives that mean nothing without a FastCGI listener.
    static let directivesWithoutMeaningInJobPools = [
        "listen.backlog", "listen.owner", "listen.group", "listen.mode", "listen.acl_users", "listen.acl_groups",
        "listen.allowed_clients", "listen.setfib", "pm.status_path", "ping.path", "ping.response", "pm.max_queue_wait",
        "request_read_timeout", "request_write_timeout", "security.limit_extensions", "access.suppress_path",
    ]

    mutating func validateJobPool(_ index: Int, _ pool: PoolConfiguration) {
        let source = pool.source
        guard pool.isJobPool else {
            // gearman.functions alone: a FastCGI pool that half-became a job pool.
            poolDiagnostic(index, "gearman.functions", pool.gearmanFunctions?.joined(separator: ", "),
                           "only a job pool registers Gearman functions: set 'gearman.servers' and remove 'listen'")
            if !source.isSet("listen") { poolDiagnostic(index, "listen", nil, "no listen address have been defined!") }
            return
        }
        let servers = pool.gearmanServers?.map(\.description).joined(separator: ", ")
        if source.isSet("listen") {
            poolDiagnostic(index, "listen", pool.listen.description,
                           "a job pool (gearman.servers = \(servers ?? "")) takes no FastCGI connections: remove 'listen', or 'gearman.servers' for a FastCGI pool")
        }
        if pool.exec != nil && pool.gearmanFunctions == nil {
            poolDiagnostic(index, "gearman.functions", nil,
                           "an exec job pool must name the functions its program registers (gearman.functions = NAME[, NAME…])")
        }
        if pool.exec != nil && source.isSet("pm") && pool.pm != .static {
            // The master cannot tell an idle program from a busy one (it does not write its
            // slot), so it could not retire one: an exec job pool keeps a fixed number.
            poolDiagnostic(index, "pm", pool.pm.description,
                           "an exec job pool runs a fixed number of worker programs: use pm = static")
        }
        for directive in Self.directivesWithoutMeaningInJobPools where source.isSet(directive) {
            poolDiagnostic(index, directive, nil, "means nothing in a job pool (its workers take Gearman jobs, not FastCGI requests)")
        }
    }
}
