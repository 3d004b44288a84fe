// A small blocking SMTP client for tests: one session on 127.0.0.1, each
// command's reply returned as it came, so a test can assert at which stage a
// message was refused. Every read and write is bounded by a timeout.
// Not thread-safe; one per session.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace hive::testing {

struct SmtpReply {
  int code = 0;      // 0: no reply (connection lost, timeout)
  std::string text;  // all lines, "\n"-joined, without the codes

  bool positive() const { return code >= 200 && code < 400; }
  std::string ToString() const { return std::to_string(code) + " " + text; }
};

class SmtpClient {
 public:
  explicit SmtpClient(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~SmtpClient();
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  // Connects and returns the greeting.
  SmtpReply Connect(uint16_t port);
  SmtpReply Command(const std::string& line);
  // DATA, then (on 354) the message with dot-stuffing and the final dot;
  // returns the reply to the final dot, or the refusal of DATA itself.
  SmtpReply Data(const std::string& message);

 private:
  SmtpReply ReadReply();
  bool WriteAll(const std::string& bytes);

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
};

// The replies of one whole transaction.
struct Transaction {
  SmtpReply greeting, ehlo, mail;
  std::vector<SmtpReply> rcpts;
  SmtpReply data;  // the reply to the final dot (or to DATA when refused)
  int accepted_recipients() const;
};

// One session: EHLO, MAIL, every RCPT, DATA (only if a recipient was
// accepted), QUIT.
Transaction SendMail(uint16_t port, const std::string& sender, const std::vector<std::string>& recipients,
                     const std::string& message);

// An RFC 5322 message with Date, Message-ID, From, To, Subject, and `extra_headers`
// (each "Name: value") before the body; line ends CRLF.
std::string MakeMessage(const std::string& from, const std::string& to, const std::string& subject,
                        const std::string& body, const std::vector<std::string>& extra_headers = {});

}  // namespace hive::testing
