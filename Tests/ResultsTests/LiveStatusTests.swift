import Results
import Testing

@testable import Engine

@Suite struct LiveStatusTests {
    static func started() -> LiveStatus {
        let live = LiveStatus()
        live.handle(.stepStarted(id: "login", kind: "login", at: SampleRuns.at(0)))
        live.handle(.stepStarted(id: "each[3].exported", kind: "wait", at: SampleRuns.at(5)))
        return live
    }

    @Test func eachRunningStepHasALineWithItsElapsedTime() {
        #expect(
            Self.started().lines(now: SampleRuns.at(75.9), width: 100) == [
                "  login (login) 1m15s", "  each[3].exported (wait) 1m10s",
            ]
        )
    }

    @Test func aWaitShowsItsTaskAndARetryItsCountdown() {
        let live = Self.started()
        live.handle(
            .stepProgress(
                id: "each[3].exported",
                taskID: "t",
                percent: 45,
                status: "in progress",
                at: SampleRuns.at(6)
            )
        )
        live.handle(
            .attemptFailed(
                id: "login",
                attempt: SampleRuns.retriedLogin.attempts[0],
                retryAfter: 2
            )
        )
        #expect(
            live.lines(now: SampleRuns.at(1), width: 100) == [
                "  login (login) 1s · err_too_many_requests, attempt 2 in 2s",
                "  each[3].exported (wait) 0s · task in progress 45%",
            ]
        )
        #expect(
            live.lines(now: SampleRuns.at(3), width: 100).first == "  login (login) 3s · attempt 2"
        )
    }

    @Test func anEndedStepLeavesAndLongLinesAreCut() {
        let live = Self.started()
        live.handle(.stepEnded(SampleRuns.retriedLogin))
        live.handle(.notice("ignored", at: 0))
        #expect(live.lines(now: SampleRuns.at(9), width: 20) == ["  each[3].exported …"])
    }

    @Test func redrawReplacesTheLinesDrawnBefore() {
        let live = Self.started()
        #expect(
            live.redraw(now: SampleRuns.at(6), width: 80)
                == "  login (login) 6s\n  each[3].exported (wait) 1s\n"
        )
        live.handle(.stepEnded(SampleRuns.retriedLogin))
        #expect(
            live.redraw(now: SampleRuns.at(7), width: 80)
                == "\u{1B}[2A\r\u{1B}[J  each[3].exported (wait) 2s\n"
        )
        #expect(live.erase() == "\u{1B}[1A\r\u{1B}[J")
        #expect(live.erase() == "")
    }
}
