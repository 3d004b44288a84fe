/*
 * syslog2file: an LD_PRELOAD shim for the test Sendmail (tests/integration).
 *
 * Purpose: Sendmail logs only through syslog(3), and test machines often have
 * no syslog daemon and no /dev/log, so its lines (every "Milter ..." step
 * included) would be lost. This shim appends them to the file named by
 * SYSLOG2FILE instead, one write(2) per line (O_APPEND), so lines from the
 * daemon and its children stay whole. It also overrides gethostname(2) with
 * FAKE_HOSTNAME: Sendmail qualifies its host name before it reads sendmail.cf
 * and sleeps 60 s at every start when the name has no dot ("My unqualified
 * host name (vm) unknown; sleeping for retry").
 *
 * Usage: built by prepare-sendmail.sh into <prefix>/lib/syslog2file.so;
 *   SYSLOG2FILE=/dir/maillog FAKE_HOSTNAME=mta.test LD_PRELOAD=.../syslog2file.so sendmail ...
 * The binary must not be set-user/group-ID (glibc ignores LD_PRELOAD then):
 * prepare-sendmail.sh clears the setgid bit of the private copy.
 * Sendmail clears its environment early in main(), so the variables are read
 * in a constructor, before main().
 *
 * Thread-safety: the settings are written once, before main(); each log line
 * is formatted on the stack and written with one write(2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static char log_path[1024];
static char fake_hostname[256];
static char ident[64] = "sendmail";

__attribute__((constructor)) static void syslog2file_init(void) {
	const char *value = getenv("SYSLOG2FILE");
	if (value != NULL) snprintf(log_path, sizeof log_path, "%s", value);
	value = getenv("FAKE_HOSTNAME");
	if (value != NULL) snprintf(fake_hostname, sizeof fake_hostname, "%s", value);
}

static int copy_name(char *name, size_t len, const char *value) {
	const size_t n = strlen(value);
	if (n + 1 > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(name, value, n + 1);
	return 0;
}

int gethostname(char *name, size_t len) {
	if (fake_hostname[0] != '\0') return copy_name(name, len, fake_hostname);
	struct utsname u;
	if (uname(&u) != 0) return -1;
	return copy_name(name, len, u.nodename);
}

static void emit(int priority, const char *format, va_list args) {
	if (log_path[0] == '\0') return;
	char line[4096];
	char stamp[32];
	struct timeval now;
	struct tm tm;
	gettimeofday(&now, NULL);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	int n = snprintf(line, sizeof line, "%s.%03ldZ %s[%ld] <%d>: ", stamp, (long)(now.tv_usec / 1000), ident,
			 (long)getpid(), priority & 7);
	if (n < 0 || n >= (int)sizeof line) return;
	const int body = vsnprintf(line + n, sizeof line - (size_t)n, format, args);
	if (body < 0) return;
	n += body;
	if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
	line[n++] = '\n';
	const int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) return;
	const ssize_t written = write(fd, line, (size_t)n);
	(void)written;
	close(fd);
}

void openlog(const char *id, int option, int facility) {
	(void)option;
	(void)facility;
	if (id != NULL) snprintf(ident, sizeof ident, "%s", id);
}

void closelog(void) {}

void vsyslog(int priority, const char *format, va_list args) { emit(priority, format, args); }

void syslog(int priority, const char *format, ...) {
	va_list args;
	va_start(args, format);
	emit(priority, format, args);
	va_end(args);
}

/* What a _FORTIFY_SOURCE build (Debian's sendmail) actually calls. */
void __vsyslog_chk(int priority, int flag, const char *format, va_list args) {
	(void)flag;
	emit(priority, format, args);
}

void __syslog_chk(int priority, int flag, const char *format, ...) {
	va_list args;
	(void)flag;
	va_start(args, format);
	emit(priority, format, args);
	va_end(args);
}
