// dockling: the complete tool, assembled from every chapter's mechanisms.
#include "cgroup_limits.hpp"
#include "chroot_root.hpp"
#include "cli.hpp"

int main(int argc, char** argv)
{
    dockling::Settings settings;
    dockling::Runtime runtime;
    runtime.add<dockling::ChrootRoot>();
    runtime.add<dockling::CgroupLimits>();

    dockling::CommandLine cli({"dockling", "Dockling: a container runtime you build to learn how Docker works", 0},
                              runtime, settings);
    return cli.main(argc, argv);
}
