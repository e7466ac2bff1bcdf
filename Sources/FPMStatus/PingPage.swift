/// php-fpm's ping page: `ping.response` as plain text, no newline added, with the same cache
/// headers as the status page.
package enum PingPage {
    /// The content type php-fpm puts on the wire for ping.
    package static let contentType = "text/plain;charset=UTF-8"

    package static func render(response: String) -> StatusPage.RenderedPage {
        StatusPage.RenderedPage(contentType: contentType, body: Array(response.utf8))
    }
}
