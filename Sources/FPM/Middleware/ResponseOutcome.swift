import HTTPTypes

/// What became of a request once the rest of the chain returned or threw, for the middleware
/// that report it (logging, metrics): the status the client gets.
enum ResponseOutcome {
    /// The status after `next` returned, or the one its error will be answered with: an
    /// ``HTTPError``'s own before the head went out, 500 for any other error then, and the
    /// status already sent otherwise.
    static func status(_ response: Response, error: (any Error)?) -> Int {
        guard let error, !response.headSent else { return response.status.code }
        if let http = error as? HTTPError { return http.status.code }
        return 500
    }
}
