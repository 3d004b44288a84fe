-- hive-milter.lua: drives a running hive-milter (backed by a real
-- hive-policyd with policy.yaml from this directory) with miltertest, the
-- Lua milter client from OpenDKIM, as OpenDKIM and rspamd test their milters:
-- an MTA-independent check of every stage's reply.
--
--   miltertest -s hive-milter.lua -D sock=inet:PORT@127.0.0.1
--
-- Sessions: (1) several messages on one connection: pools per sender, a
-- per-recipient refusal, a spam reject at end of message, then a clean
-- message again; (2) RSET releases what RCPT reserved, a committed message
-- counts; (3) an abort mid-message releases too; (4) a new connection sees
-- the commits of (3). Keep headers small: miltertest itself crashes on
-- headers over about 1 KB.
--
-- miltertest exits 1 on error() without printing why: every failure is
-- echoed first ("not ok - ..."), and the script errors at the end.

sock = sock or error("-D sock=inet:PORT@127.0.0.1 is required")
mt.set_timeout(10)
local failures = 0

local function must(cond, what)
	if not cond then
		mt.echo("not ok - FATAL " .. what)
		error(what)
	end
end

local function check(cond, what)
	if cond then
		mt.echo("ok - " .. what)
	else
		mt.echo("not ok - " .. what)
		failures = failures + 1
	end
end

local function reply_name(r)
	local names = {
		[SMFIR_CONTINUE] = "continue", [SMFIR_ACCEPT] = "accept", [SMFIR_REJECT] = "reject",
		[SMFIR_TEMPFAIL] = "tempfail", [SMFIR_REPLYCODE] = "replycode", [SMFIR_DISCARD] = "discard",
	}
	return names[r] or tostring(r)
end

-- One stage: the call must succeed, and the milter's reply must be `want`.
local function step(conn, want, what, err)
	must(err == nil, what .. ": " .. tostring(err))
	local got = mt.getreply(conn)
	check(got == want, what .. " -> " .. reply_name(want) .. " (got " .. reply_name(got) .. ")")
end

local function open_session(name)
	local conn = mt.connect(sock, 50, 0.1)
	must(conn ~= nil, "connect to " .. sock)
	must(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate")
	-- What Sendmail sends by default: no {client_addr}; the milter takes the
	-- address from the connect packet.
	mt.macro(conn, SMFIC_CONNECT, "j", "mt.test.invalid", "{daemon_name}", "miltertest")
	step(conn, SMFIR_CONTINUE, name .. ": connect", mt.conninfo(conn, "client.test.invalid", "127.0.0.1"))
	step(conn, SMFIR_CONTINUE, name .. ": helo", mt.helo(conn, "client.test.invalid"))
	return conn
end

-- MAIL with the queue id Sendmail would give at that stage.
local function mail(conn, from, qid, want)
	mt.macro(conn, SMFIC_MAIL, "i", qid, "{mail_addr}", from)
	step(conn, want or SMFIR_CONTINUE, "MAIL " .. from, mt.mailfrom(conn, "<" .. from .. ">"))
end

local function rcpt(conn, to, want)
	step(conn, want or SMFIR_CONTINUE, "RCPT " .. to, mt.rcptto(conn, "<" .. to .. ">"))
end

-- DATA, three small headers, end of headers, body; then EOM, whose reply is
-- returned for the caller to check with mt.eom_check.
local function content_until_eom(conn, from, subject, body)
	step(conn, SMFIR_CONTINUE, "DATA", mt.data(conn))
	step(conn, SMFIR_CONTINUE, "header From", mt.header(conn, "From", from))
	step(conn, SMFIR_CONTINUE, "header To", mt.header(conn, "To", "someone@dest.example"))
	step(conn, SMFIR_CONTINUE, "header Subject", mt.header(conn, "Subject", subject))
	step(conn, SMFIR_CONTINUE, "EOH", mt.eoh(conn))
	step(conn, SMFIR_CONTINUE, "body", mt.bodystring(conn, body .. "\r\n"))
	must(mt.eom(conn) == nil, "EOM " .. subject)
	return mt.getreply(conn)
end

local function delivered_to_pool(conn, from, to, qid, pool)
	mail(conn, from, qid)
	rcpt(conn, to)
	local r = content_until_eom(conn, from, "hello " .. qid, "A clean message.")
	check(r == SMFIR_CONTINUE, "EOM " .. from .. " -> continue (got " .. reply_name(r) .. ")")
	check(mt.eom_check(conn, MT_HDRADD, "X-Hive-Pool", pool), "EOM " .. from .. " adds X-Hive-Pool: " .. pool)
end

-- 1. Several messages on one connection.
local conn = open_session("session 1")
delivered_to_pool(conn, "receipts@shop.example", "bob@dest.example", "MTQ0001", "transactional")
delivered_to_pool(conn, "news@other.example", "bob@dest.example", "MTQ0002", "marketing")

-- One recipient over its per-domain limit: refused alone, the message goes on.
mail(conn, "ann@split.example", "MTQ0003")
rcpt(conn, "one@d1.example")
rcpt(conn, "two@d1.example", SMFIR_REPLYCODE)
rcpt(conn, "three@d2.example")
local r = content_until_eom(conn, "ann@split.example", "split", "Two of three.")
check(r == SMFIR_CONTINUE, "EOM split -> continue")

-- Spam: rejected at end of message with the policy's 550 5.7.1.
mail(conn, "promo@spam.example", "MTQ0004")
rcpt(conn, "victim@dest.example")
r = content_until_eom(conn, "promo@spam.example", "FREE MONEY $$$", "Buy cheap viagra now!")
check(r == SMFIR_REPLYCODE, "EOM spam -> replycode (got " .. reply_name(r) .. ")")
-- miltertest 1.6 compares code, enhanced code and text all together.
check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1",
	"Refused: message looks like spam (score 12.0: PHARMA_BODY, MONEY_SUBJECT)"),
	"EOM spam -> 550 5.7.1 with the policy's text")
check(not mt.eom_check(conn, MT_HDRADD, "X-Hive-Pool"), "EOM spam adds no pool header")

-- After a rejection the next message is checked afresh (Postfix 20260803).
delivered_to_pool(conn, "receipts@shop.example", "carol@dest.example", "MTQ0005", "transactional")
mt.disconnect(conn)

-- 2. RSET: the reservation made at RCPT is released, so the sender's single
-- allowed message is still there; once delivered it counts.
conn = open_session("session 2")
mail(conn, "alice@limited.example", "MTQ0006")
rcpt(conn, "x@dest.example")
must(mt.abort(conn) == nil, "RSET (abort)")
mt.echo("ok - RSET")
delivered_to_pool(conn, "alice@limited.example", "x@dest.example", "MTQ0007", "marketing")
mail(conn, "alice@limited.example", "MTQ0008", SMFIR_REPLYCODE)
mt.disconnect(conn)

-- 3. Abort in the middle of the body, then the same sender again on the same
-- connection: the aborted message did not count.
conn = open_session("session 3")
mail(conn, "ann@mid.example", "MTQ0009")
rcpt(conn, "x@dest.example")
step(conn, SMFIR_CONTINUE, "DATA", mt.data(conn))
step(conn, SMFIR_CONTINUE, "header Subject", mt.header(conn, "Subject", "cut short"))
step(conn, SMFIR_CONTINUE, "EOH", mt.eoh(conn))
step(conn, SMFIR_CONTINUE, "body (first chunk)", mt.bodystring(conn, "the first half\r\n"))
must(mt.abort(conn) == nil, "abort mid-message")
mt.echo("ok - abort mid-message")
delivered_to_pool(conn, "ann@mid.example", "x@dest.example", "MTQ0010", "marketing")
mt.disconnect(conn)

-- 4. A new connection: the message committed in 3 counts, MAIL is refused.
conn = open_session("session 4")
mail(conn, "ann@mid.example", "MTQ0011", SMFIR_REPLYCODE)
mt.disconnect(conn)

mt.echo(string.format("hive-milter.lua: %d failed", failures))
if failures > 0 then
	error(failures .. " check(s) failed")
end
