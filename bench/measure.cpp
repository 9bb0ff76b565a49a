// measure FD COMMAND [ARG...]: runs COMMAND and writes its wall time and peak RSS, as
// "<microseconds> <KiB>", to file descriptor FD.
//
// Python cannot measure a child's peak RSS itself: ru_maxrss also counts the child's memory
// between fork and exec, which is a copy of the whole Python interpreter. This launcher is
// small and static, so what it adds to the measurement is a few hundred KiB at most.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: measure FD COMMAND [ARG...]\n");
        return 2;
    }
    int report_fd = std::atoi(argv[1]);
    auto start = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(report_fd);
        ::execvp(argv[2], argv + 2);
        ::_exit(127);
    }
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    ::dprintf(report_fd, "%lld %ld\n", static_cast<long long>(elapsed.count()), usage.ru_maxrss);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
