import Foundation
import FPMConfiguration
import Testing

@Suite struct SyntaxTests {
    @Test func trailingSemicolonCommentIsDropped() throws {
        #expect(try loadPool("ping.response = hello world ; comment").pingResponse == "hello world")
    }

    @Test func hashAndSemicolonLinesAreComments() throws {
        #expect(try loadPool("# a comment\n; another\n   ; indented\nping.response = x").pingResponse == "x")
    }

    @Test func hashInsideAValueIsKept() throws {
        #expect(try loadPool("ping.response = a # b").pingResponse == "a # b")
    }

    @Test func doubleQuotesKeepSemicolonsAndSpaces() throws {
        #expect(try loadPool("ping.response = \"  a;b  \" ; c").pingResponse == "  a;b  ")
    }

    @Test func doubleQuotesUnderstandEscapes() throws {
        #expect(try loadPool(#"ping.response = "a\"b\\c\$d\n""#).pingResponse == #"a"b\c$d\n"#)
    }

    @Test func singleQuotesAreLiteral() throws {
        let pool = try loadPool("ping.response = 'x ${HOME} $pool ;'", environment: ["HOME": "/h"])
        #expect(pool.pingResponse == "x ${HOME} $pool ;")
    }

    @Test func segmentsAreConcatenated() throws {
        #expect(try loadPool(#"ping.response = "a" b 'c'"#).pingResponse == "abc")
        #expect(try loadPool(#"ping.response = 'it'"'"'s'"#).pingResponse == "it's")
    }

    @Test func bareValueKeepsInnerSpacesAndTrimsEnds() throws {
        #expect(try loadPool("ping.response =    a   b   ").pingResponse == "a   b")
    }

    @Test func quotedValueCannotSpanLines() {
        #expect(poolErrors("ping.response = \"abc\ndef\"") == [
            "t.conf:6: ping.response: syntax error: unterminated double-quoted value (a quoted value cannot span lines)",
            "t.conf:7: syntax error: expected 'directive = value' but found 'def\"'",
        ])
        #expect(poolErrors("ping.response = 'abc") == [
            "t.conf:6: ping.response: syntax error: unterminated single-quoted value (a quoted value cannot span lines)"
        ])
    }

    @Test func unquotedOperatorIsASyntaxError() {
        #expect(poolErrors("ping.response = a!b") == ["t.conf:6: ping.response: syntax error, unexpected '!' (quote the value)"])
        #expect(poolErrors("ping.response = a=b") == ["t.conf:6: ping.response: syntax error, unexpected '=' (quote the value)"])
    }

    @Test func lineWithoutEqualsIsASyntaxError() {
        #expect(poolErrors("justakey") == ["t.conf:6: syntax error: expected 'directive = value' but found 'justakey'"])
    }

    @Test func crlfLineEndingsAreAccepted() throws {
        let text = minimalPool.replacingOccurrences(of: "\n", with: "\r\n") + "ping.response = x\r\n"
        #expect(try load(text).pools[0].pingResponse == "x")
    }

    @Test func directiveNamesAreCaseInsensitive() throws {
        let pool = try load("[www]\nLISTEN = 9000\nPm = Static\nPM.Max_Children = 3\nhandler = info\n").pools[0]
        #expect(pool.maxChildren == 3)
        #expect(pool.pm == .static)
    }

    @Test func globalSectionIsCaseInsensitiveAndDirectivesBeforeAnySectionAreGlobal() throws {
        let configuration = try load("pid = /run/a.pid\n[GLOBAL]\nlog_level = WARN\n" + minimalPool)
        #expect(configuration.global.pid == "/run/a.pid")
        #expect(configuration.global.logLevel == .warning)
    }

    @Test func reopeningAPoolMergesAndLastAssignmentWins() throws {
        let configuration = try load(minimalPool + "ping.response = one\n[other]\nlisten = 9001\npm = static\npm.max_children = 1\nhandler = info\n[WWW]\nping.response = two\npm.max_children = 4\n")
        #expect(configuration.pools.map(\.name) == ["www", "other"])
        #expect(configuration.pools[0].pingResponse == "two")
        #expect(configuration.pools[0].maxChildren == 4)
    }

    @Test func booleansAcceptEveryPHPFPMSpelling() throws {
        for text in ["1", "yes", "YES", "true", "On", "on"] {
            #expect(try loadPool("catch_workers_output = \(text)").catchWorkersOutput, "\(text)")
        }
        for text in ["0", "no", "False", "off", "none", "NONE", "\"\"", ""] {
            #expect(try !loadPool("clear_env = \(text)").clearEnv, "\(text)")
        }
        #expect(poolErrors("clear_env = maybe") == ["t.conf:6: clear_env = maybe: invalid boolean value"])
    }

    @Test func timeValuesTakeSuffixes() throws {
        #expect(try loadPool("request_terminate_timeout = 30").requestTerminateTimeout == 30)
        #expect(try loadPool("request_terminate_timeout = 30s").requestTerminateTimeout == 30)
        #expect(try loadPool("request_terminate_timeout = 5m").requestTerminateTimeout == 300)
        #expect(try loadPool("request_terminate_timeout = 2h").requestTerminateTimeout == 7200)
        #expect(try loadPool("request_terminate_timeout = 1d").requestTerminateTimeout == 86400)
        #expect(poolErrors("request_terminate_timeout = 10x") == [
            "t.conf:6: request_terminate_timeout = 10x: unknown suffix used in time value"
        ])
        #expect(poolErrors("request_terminate_timeout = \"\"") == ["t.conf:6: request_terminate_timeout = : invalid time value"])
        #expect(poolErrors("request_terminate_timeout = -5") == ["t.conf:6: request_terminate_timeout = -5: must not be negative"])
    }

    @Test func integersAreDigitsWithAnOptionalMinus() throws {
        #expect(try loadPool("pm.max_children = 03").maxChildren == 3)
        #expect(poolErrors("pm.max_children = 3x") == [
            "t.conf:6: pm.max_children = 3x: is not a valid number (greater or equal than zero)"
        ])
        #expect(poolErrors("pm.max_children = +3") == [
            "t.conf:6: pm.max_children = +3: is not a valid number (greater or equal than zero)"
        ])
        #expect(poolErrors("pm.max_children = 99999999999999999999") == [
            "t.conf:6: pm.max_children = 99999999999999999999: is out of range"
        ])
    }

    @Test func unknownDirectiveIsAnError() {
        #expect(poolErrors("foo = 1") == ["t.conf:6: foo = 1: unknown directive"])
        #expect(poolErrors("foo[x] = 1") == ["t.conf:6: foo[x] = 1: unknown directive"])
        #expect(poolErrors("pid = /x") == ["t.conf:6: pid = /x: unknown directive (it belongs in [global])"])
        #expect(errors("[global]\nslowlog = /x\n" + minimalPool) == [
            "t.conf:2: slowlog = /x: unknown directive (it belongs in a pool section)"
        ])
    }

    @Test func allErrorsOfAFileAreReported() {
        #expect(poolErrors("foo = 1\nclear_env = maybe\npm.max_requests = x") == [
            "t.conf:6: foo = 1: unknown directive",
            "t.conf:7: clear_env = maybe: invalid boolean value",
            "t.conf:8: pm.max_requests = x: is not a valid number (greater or equal than zero)",
        ])
    }

    @Test func invalidPoolNamesAreRefused() {
        #expect(errors("[a b]\nlisten = 9000\n" + minimalPool) == [
            "t.conf:1: invalid pool name '[a b]': use 1 to 64 letters, digits, '_', '-', '.' or '@'"
        ])
        #expect(errors("[]\n" + minimalPool) == [
            "t.conf:1: invalid pool name '[]': use 1 to 64 letters, digits, '_', '-', '.' or '@'"
        ])
    }
}

@Suite struct PHPValueSyntaxTests {
    @Test func phpIniExpressionsAreAcceptedInPHPOnlyDirectives() throws {
        let pool = try loadPool("php_admin_value[error_reporting] = E_ALL & ~E_NOTICE ; comment\nphp_value[x] = (1|2)^!3")
        #expect(pool.phpSettings.map(\.value) == ["E_ALL & ~E_NOTICE", "(1|2)^!3"])
    }
}
