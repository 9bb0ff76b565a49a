#include "mechanism.hpp"

#include "doctor.hpp"

namespace dockling {

// The defaults do nothing, so a mechanism overrides only the hooks it needs.
void Mechanism::add_run_options(CLI::App& /*run*/, ContainerSpec& /*spec*/) {}
void Mechanism::prepare(ContainerSpec& /*spec*/) {}
unsigned long Mechanism::clone_flags(const ContainerSpec& /*spec*/) const { return 0; }
void Mechanism::after_clone(const ContainerSpec& /*spec*/, pid_t /*child*/) {}
void Mechanism::in_child(const ContainerSpec& /*spec*/) {}
void Mechanism::after_exit(const ContainerSpec& /*spec*/, ExitInfo& /*exit*/) {}
void Mechanism::cleanup(const ContainerSpec& /*spec*/) noexcept {}
std::vector<PreflightCheck> Mechanism::preflight() const { return {}; }

}  // namespace dockling
