import CPlacement
import Testing

/// The move a session's thread makes when it finds its core taken while it waits for a quick
/// reply (see `TransferThread`).
@Suite("Moving a waiting thread to another core")
struct CorePlacementTests {
    @Test func theThreadLandsOnAnotherCoreAndMayUseAllOfThemAgain() {
        let allowed = chk_allowed_cores()
        var arrived: Int32 = -1
        let left = chk_move_to_another_core(&arrived)
        #if os(Linux)
        if allowed >= 2 {
            #expect(left >= 0)
            #expect(arrived >= 0)
            #expect(arrived != left)
        } else {
            // One core to run on (or none known): nowhere to go, and nothing changed.
            #expect(left == -1)
            #expect(arrived == -1)
        }
        #else
        #expect(left == -1)
        #endif
        #expect(chk_allowed_cores() == allowed)
    }
}
