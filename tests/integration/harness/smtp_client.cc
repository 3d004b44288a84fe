#include "harness/smtp_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/time.h>

#include <atomic>
#include <ctime>

namespace hive::testing {
namespace {

// RFC 4648 base64, for AUTH PLAIN.
std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

SmtpClient::SmtpClient(std::chrono::milliseconds timeout) : timeout_(timeout) {}

SmtpClient::~SmtpClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  if (fd_ >= 0) close(fd_);
}

SmtpReply SmtpClient::Connect(uint16_t port, bool ipv6) {
  fd_ = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sockaddr_in6 addr6{};
  addr6.sin6_family = AF_INET6;
  addr6.sin6_port = htons(port);
  addr6.sin6_addr = in6addr_loopback;
  const int rc = ipv6 ? connect(fd_, reinterpret_cast<sockaddr*>(&addr6), sizeof addr6)
                      : connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc != 0) return SmtpReply{0, "connect failed"};
  // Bounds the blocking reads and writes inside OpenSSL's handshake.
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return ReadReply();
}

bool SmtpClient::WriteAll(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    if (ssl_ != nullptr) {
      // Blocking socket: SO_SNDTIMEO bounds it.
      const int n = SSL_write(ssl_, bytes.data() + done, static_cast<int>(bytes.size() - done));
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
      continue;
    }
    pollfd p{fd_, POLLOUT, 0};
    if (poll(&p, 1, static_cast<int>(timeout_.count())) <= 0) return false;
    const ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

long SmtpClient::ReadSome(char* data, std::size_t size, int timeout_ms) {
  // Decrypted bytes OpenSSL already holds would never wake poll().
  if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return 0;
  }
  if (ssl_ != nullptr) return SSL_read(ssl_, data, static_cast<int>(size));
  return recv(fd_, data, size, 0);
}

SmtpReply SmtpClient::StartTls() {
  SmtpReply reply = Command("STARTTLS");
  if (reply.code != 220) return reply;
  ssl_ctx_ = SSL_CTX_new(TLS_client_method());
  if (ssl_ctx_ == nullptr) return SmtpReply{0, "SSL_CTX_new: " + OpenSslError()};
  SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_NONE, nullptr);
  ssl_ = SSL_new(ssl_ctx_);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return SmtpReply{0, "SSL_new: " + OpenSslError()};
  // MSG_NOSIGNAL is not available through OpenSSL's writes: a peer that
  // closes mid-handshake must not kill the test binary.
  signal(SIGPIPE, SIG_IGN);
  if (SSL_connect(ssl_) != 1) {
    const std::string error = OpenSslError();
    SSL_free(ssl_);
    ssl_ = nullptr;
    return SmtpReply{0, "TLS handshake failed: " + error};
  }
  return reply;
}

std::string SmtpClient::TlsVersion() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

SmtpReply SmtpClient::AuthPlain(const std::string& user, const std::string& password) {
  return Command("AUTH PLAIN " + Base64(std::string(1, '\0') + user + std::string(1, '\0') + password));
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
    if (left.count() <= 0) return SmtpReply{0, "timeout waiting for reply"};
    char chunk[4096];
    const long n = ReadSome(chunk, sizeof chunk, static_cast<int>(left.count()));
    if (n <= 0) return SmtpReply{0, "connection closed or timeout"};
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

SmtpReply SmtpClient::DataRaw(const std::string& bytes) {
  SmtpReply start = Command("DATA");
  if (start.code != 354) return start;
  if (!WriteAll(bytes + "\r\n.\r\n")) return SmtpReply{0, "write failed"};
  return ReadReply();
}

int Transaction::accepted_recipients() const {
  int n = 0;
  for (const auto& r : rcpts) n += r.positive() ? 1 : 0;
  return n;
}

Transaction SendMail(uint16_t port, const std::string& sender, const std::vector<std::string>& recipients,
                     const std::string& message) {
  return SendMail(port, SessionOptions{}, sender, recipients, message);
}

Transaction SendMail(uint16_t port, const SessionOptions& session, const std::string& sender,
                     const std::vector<std::string>& recipients, const std::string& message) {
  Transaction t;
  SmtpClient client;
  t.greeting = client.Connect(port, session.ipv6);
  if (t.greeting.code != 220) return t;
  t.ehlo = client.Command("EHLO client.test.invalid");
  if (session.starttls && t.ehlo.code == 250) {
    if (SmtpReply tls = client.StartTls(); tls.code != 220) {
      t.ehlo = tls;
      return t;
    }
    t.ehlo = client.Command("EHLO client.test.invalid");
  }
  if (!session.auth_user.empty() && t.ehlo.code == 250) {
    if (SmtpReply auth = client.AuthPlain(session.auth_user, session.auth_password); auth.code != 235) {
      t.ehlo = auth;
      client.Command("QUIT");
      return t;
    }
  }
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
