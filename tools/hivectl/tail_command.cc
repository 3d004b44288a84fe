// hivectl tail: follow hive-policyd's decisions live (TailDecisions).
//
//   hivectl tail [--sender ADDR|@DOMAIN] [--action A] [--pool P]
//                [--count N] [--for SECONDS] [--queue N]
// Runs until Ctrl-C, N decisions, or SECONDS. "tailing ..." on stderr means
// subscribed: every decision from then on is shown (or counted as lost when
// this reader falls behind: "... N decisions lost").
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "commands.h"

namespace hive::ctl {

namespace av1 = hive::admin::v1;

namespace {

void PrintDecision(const av1::Decision& d) {
  if (d.dropped_before() > 0) std::cout << "... " << d.dropped_before() << " decisions lost (reader too slow)\n";
  std::cout << TimeText(d.time_unix_ms()) << "  " << d.rpc() << "  " << d.action();
  if (!d.reply().empty()) std::cout << " " << d.reply();
  std::cout << "  sender=" << (d.sender().empty() ? "<>" : d.sender());
  if (!d.recipients().empty()) std::cout << " rcpt=" << absl::StrJoin(d.recipients(), ",");
  std::cout << absl::StrFormat(" score=%.2f", d.score());
  if (!d.symbols().empty()) std::cout << " symbols=" << absl::StrJoin(d.symbols(), ",");
  if (!d.pool().empty()) std::cout << " pool=" << d.pool() << (d.pool_member().empty() ? "" : "/" + d.pool_member());
  if (!d.error().empty()) std::cout << " error=\"" << d.error() << "\"";
  std::cout << " txn=" << d.transaction_id() << " decision=" << d.decision_id() << "\n";
}

}  // namespace

int Tail(Context& ctx, const Args& args) {
  av1::TailRequest req;
  req.set_sender(args.Get("sender"));
  req.set_action(args.Get("action"));
  req.set_pool(args.Get("pool"));
  std::uint32_t count = 0, seconds = 0, queue = 0;
  if ((args.Has("count") && (!absl::SimpleAtoi(args.Get("count"), &count) || count == 0)) ||
      (args.Has("for") && (!absl::SimpleAtoi(args.Get("for"), &seconds) || seconds == 0)) ||
      (args.Has("queue") && !absl::SimpleAtoi(args.Get("queue"), &queue))) {
    return Usage("tail: --count, --for and --queue take positive numbers");
  }
  req.set_queue(queue);
  grpc::ClientContext call;
  AddBearerToken(call);
  if (seconds > 0) call.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  std::unique_ptr<grpc::ClientReader<av1::Decision>> reader = ctx.stub->TailDecisions(&call, req);
  // The server sends its initial metadata once subscribed.
  reader->WaitForInitialMetadata();
  std::cerr << "tailing decisions" << (seconds > 0 ? absl::StrFormat(" for %ds", seconds) : " (Ctrl-C stops)")
            << std::endl;
  av1::Decision d;
  std::uint32_t seen = 0;
  while (reader->Read(&d)) {
    if (ctx.json) {
      PrintJson(d, /*one_line=*/true);  // one decision a line
    } else {
      PrintDecision(d);
    }
    std::cout.flush();
    if (count > 0 && ++seen >= count) {
      call.TryCancel();
      (void)reader->Finish();  // CANCELLED: we hung up
      return kExitOk;
    }
  }
  const grpc::Status s = reader->Finish();
  // --for elapsed: the end the user asked for.
  if (s.ok() || (seconds > 0 && s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)) return kExitOk;
  return Failed(s);
}

}  // namespace hive::ctl
