import FPMServer

extension Request {
    /// The parts of a `multipart/form-data` body (an HTML form with `enctype="multipart/form-data"`,
    /// a file upload), read as a stream: see ``MultipartReader`` and <doc:Multipart>. Call it
    /// once per request: the reader takes the body from where it is and keeps bytes ahead.
    ///
    /// Throws an ``HTTPError`` 415 when the request is not `multipart/form-data`, a 400 when its
    /// `Content-Type` has no usable boundary, and a 413 when its `CONTENT_LENGTH` is over
    /// `limits.maxTotalSize`. Nothing is read or allocated before it is called: a request that
    /// does not ask for its parts pays nothing.
    public func multipart(limits: MultipartLimits = MultipartLimits()) throws -> MultipartReader {
        let boundary = try Self.multipartBoundary(contentType: contentType)
        if let length = contentLength, length > limits.maxTotalSize {
            throw HTTPError(.contentTooLarge, "multipart body larger than \(limits.maxTotalSize) bytes")
        }
        let base = self.base
        return MultipartReader(boundary: boundary, limits: limits) { try base.read(into: $0) }
    }

    /// The `boundary` parameter of a `multipart/form-data` content type. RFC 2046 allows 1 to 70
    /// characters; up to 200 are taken, for clients that stretch it.
    static func multipartBoundary(contentType: String?) throws -> String {
        let parameters = HeaderParameters(contentType ?? "")
        guard parameters.value.lowercased() == "multipart/form-data" else {
            throw HTTPError(.unsupportedMediaType, "expected a multipart/form-data body, got \(contentType.map { "'\($0)'" } ?? "no Content-Type")")
        }
        guard let boundary = parameters["boundary"], (1...200).contains(boundary.utf8.count),
              !boundary.utf8.contains(where: { $0 == 13 || $0 == 10 }) else {
            throw HTTPError(.badRequest, "multipart/form-data Content-Type without a valid boundary")
        }
        return boundary
    }
}
