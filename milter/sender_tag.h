// The pool member carried in the envelope sender, for Sendmail: it cannot
// route on a header a milter adds (check_eom runs before the milter's end of
// message), but every delivery attempt, queue runs included, rewrites the
// envelope sender through ruleset 1. hive-milter (sender_pool_tag) turns
// "news@letters.example" into "news+<tag>.<member>@letters.example" with
// smfi_chgfrom; the rules hive-sendmail-config generates recognise the tag
// there, bind that member's source address ({if_addr} with {daemon_flags}
// "bh", set through a `macro` map) and strip the tag again, so the next hop
// sees the original return path.
//
// TagSender(sender, tag, member): `sender` (bare, no angle brackets) without
// any "+<tag>.<...>" a client wrote itself (nobody picks a source address by
// writing the tag into MAIL FROM), plus "+<tag>.<member>" at the end of the
// local part when `member` is not empty. The tag is compared without regard
// to case, as Sendmail's rules do. The null sender, an address without '@'
// and a quoted local part's inside are left as they are (they cannot carry a
// tag: such mail leaves from Sendmail's default address).
//
// Pure function, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace hive::milter {

std::string TagSender(std::string_view sender, std::string_view tag, std::string_view member);

}  // namespace hive::milter
