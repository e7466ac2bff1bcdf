import FPMConfiguration
import Testing

/// Thousands of pools load whole, with every pool's paths resolved and every cross-pool check
/// still made (the loader once copied the pools array for each pool: quadratic).
@Suite struct ManyPoolsTests {
    static func pools(_ count: Int, duplicateLast: Bool = false) -> String {
        var text = "[global]\nerror_log = log/fpm.log\n"
        for i in 1...count {
            let socket = duplicateLast && i == count ? "run/p1.sock" : "run/p\(i).sock"
            text += "[p\(i)]\nlisten = \(socket)\npm = ondemand\npm.max_children = 1\nhandler = info\naccess.log = log/p\(i).log\n"
        }
        return text
    }

    @Test func fiveThousandPoolsLoadWithTheirPathsResolved() throws {
        let configuration = try load(Self.pools(5000), prefix: "/srv/fpm")
        #expect(configuration.pools.count == 5000)
        #expect(configuration.pools.map(\.name) == (1...5000).map { "p\($0)" })
        for (i, pool) in configuration.pools.enumerated() {
            #expect(pool.listen == .unix(path: "/srv/fpm/run/p\(i + 1).sock"))
            #expect(pool.accessLog == "/srv/fpm/log/p\(i + 1).log")
        }
        // What a reload hands to the new image reads back to the same pools.
        let again = try load(configuration.renderEffective())
        #expect(again.pools == configuration.pools)
    }

    @Test func aDuplicateListenAmongFiveThousandPoolsIsFound() {
        // Pool p5000 (its section starts at line 3 + 4999 * 6) reuses p1's socket.
        #expect(errors(Self.pools(5000, duplicateLast: true), prefix: "/srv/fpm") == [
            "t.conf:\(3 + 4999 * 6 + 1): listen = /srv/fpm/run/p1.sock: unable to set listen address as it's already used in another pool 'p1'"
        ])
    }
}
