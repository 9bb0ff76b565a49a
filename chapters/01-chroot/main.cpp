// dockling-ch1: chapter 01's runtime. A container is a process in a chroot.
#include "chroot_root.hpp"
#include "cli.hpp"

//! [main]
int main(int argc, char** argv)
{
    dockling::Settings settings;
    dockling::Runtime runtime;
    runtime.add<dockling::ChrootRoot>();

    dockling::CommandLine cli({"dockling-ch1", "Dockling, chapter 01: a process in a chroot", 1}, runtime, settings);
    return cli.main(argc, argv);
}
//! [main]
