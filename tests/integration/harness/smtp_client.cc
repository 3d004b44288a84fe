#include "harness/smtp_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <ctime>

namespace hive::testing {

SmtpClient::SmtpClient(std::chrono::milliseconds timeout) : timeout_(timeout) {}

SmtpClient::~SmtpClient() {
  if (fd_ >= 0) close(fd_);
}

SmtpReply SmtpClient::Connect(uint16_t port) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return SmtpReply{0, "connect failed"};
  }
  return ReadReply();
}

bool SmtpClient::WriteAll(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    pollfd p{fd_, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(timeout_.count())) <= 0) return false;
    const ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

SmtpReply SmtpClient::ReadReply() {
  SmtpReply reply;
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    const std::size_t eol = buffer_.find("\r\n");
    if (eol != std::string::npos) {
      const std::string line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 2);
      if (line.size() < 3) return SmtpReply{0, "malformed reply: " + line};
      if (!reply.text.empty()) reply.text += "\n";
      reply.text += line.size() > 4 ? line.substr(4) : "";
      if (line.size() == 3 || line[3] == ' ') {
        reply.code = std::stoi(line.substr(0, 3));
        return reply;
      }
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      return SmtpReply{0, "timeout waiting for reply"};
    }
    char chunk[4096];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return SmtpReply{0, "connection closed"};
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

SmtpReply SmtpClient::Command(const std::string& line) {
  if (!WriteAll(line + "\r\n")) return SmtpReply{0, "write failed"};
  return ReadReply();
}

SmtpReply SmtpClient::Data(const std::string& message) {
  SmtpReply start = Command("DATA");
  if (start.code != 354) return start;
  std::string stuffed;
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t eol = message.find("\r\n", pos);
    const std::size_t end = eol == std::string::npos ? message.size() : eol + 2;
    if (message[pos] == '.') stuffed += '.';
    stuffed.append(message, pos, end - pos);
    pos = end;
  }
  if (!stuffed.empty() && stuffed.substr(stuffed.size() >= 2 ? stuffed.size() - 2 : 0) != "\r\n") stuffed += "\r\n";
  stuffed += ".\r\n";
  if (!WriteAll(stuffed)) return SmtpReply{0, "write failed"};
  return ReadReply();
}

int Transaction::accepted_recipients() const {
  int n = 0;
  for (const auto& r : rcpts) n += r.positive() ? 1 : 0;
  return n;
}

Transaction SendMail(uint16_t port, const std::string& sender, const std::vector<std::string>& recipients,
                     const std::string& message) {
  Transaction t;
  SmtpClient client;
  t.greeting = client.Connect(port);
  if (t.greeting.code != 220) return t;
  t.ehlo = client.Command("EHLO client.test.invalid");
  t.mail = client.Command("MAIL FROM:<" + sender + ">");
  if (t.mail.positive()) {
    for (const auto& r : recipients) t.rcpts.push_back(client.Command("RCPT TO:<" + r + ">"));
    if (t.accepted_recipients() > 0) t.data = client.Data(message);
  }
  client.Command("QUIT");
  return t;
}

std::string MakeMessage(const std::string& from, const std::string& to, const std::string& subject,
                        const std::string& body, const std::vector<std::string>& extra_headers) {
  static std::atomic<int> serial{0};
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string m;
  m += "Date: " + std::string(date) + "\r\n";
  m += "Message-ID: <" + std::to_string(now) + "." + std::to_string(getpid()) + "." +
       std::to_string(serial++) + "@test.invalid>\r\n";
  m += "From: " + from + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: " + subject + "\r\n";
  for (const auto& h : extra_headers) m += h + "\r\n";
  m += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  m += body;
  if (body.size() < 2 || body.substr(body.size() - 2) != "\r\n") m += "\r\n";
  return m;
}

}  // namespace hive::testing
