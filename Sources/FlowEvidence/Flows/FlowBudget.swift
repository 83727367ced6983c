// The run's limit on live flows (`--max-flows`) when several flow tables share it: with `--threads N`
// every shard has its own table (Pipeline), and a shard may hold any number of the run's flows (all
// flows between two addresses land in one shard), so the limit is on their sum, not a share each.
//
// Each table publishes its live count to one shared counter, in steps of `step` flows (an atomic add
// per step, not per flow), and checks the sum before it creates a flow: at the limit it evicts one of
// its own flows (FlowTable.evictOne). So the published sum is within `tables * step` of the true one,
// and `step` is at most 1/64 of the limit over the tables: live flows stay within 1.6% (and 256 per
// table) of the limit, and the reports of N threads are those of one as long as the live flows stay
// below the limit minus that margin (one table evicts at the limit itself; at the limit, which flows
// go depends on N anyway: each shard evicts its own least recently active one).
import Synchronization

public final class FlowBudget: Sendable {
    /// The run's limit on live flows.
    public let limit: Int
    /// Flows a table's count moves before it publishes it.
    let step: Int
    private let published = Atomic<Int>(0)

    public init(limit: Int, tables: Int) {
        self.limit = max(1, limit)
        step = max(1, min(256, self.limit / (64 * max(1, tables))))
    }

    /// Live flows of all tables, as last published.
    var total: Int { published.load(ordering: .relaxed) }
    func add(_ delta: Int) { published.add(delta, ordering: .relaxed) }
}
