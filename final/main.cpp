// dockling: the complete tool, assembled from every chapter's mechanisms.
#include "chroot_root.hpp"
#include "cli.hpp"
#include "image_commands.hpp"

int main(int argc, char** argv)
{
    dockling::Settings settings;
    dockling::Runtime runtime;
    runtime.add<dockling::ChrootRoot>();

    dockling::CommandLine cli({"dockling", "Dockling: a container runtime you build to learn how Docker works", 0},
                              runtime, settings);
    dockling::ImageCommands images(cli, settings);
    return cli.main(argc, argv);
}
