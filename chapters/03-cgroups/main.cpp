// dockling-ch3: chapter 03's runtime. A container is a process in a chroot, held to
// its resource limits by a cgroup of its own.
#include "cgroup_limits.hpp"
#include "chroot_root.hpp"
#include "cli.hpp"

//! [main]
int main(int argc, char** argv)
{
    dockling::Settings settings;
    dockling::Runtime runtime;
    runtime.add<dockling::ChrootRoot>();
    runtime.add<dockling::CgroupLimits>();

    dockling::CommandLine cli({"dockling-ch3", "Dockling, chapter 03: resource limits with cgroups", 3}, runtime,
                              settings);
    return cli.main(argc, argv);
}
//! [main]
