# SPDX-License-Identifier: GPL-2.0
#
# x86_64 QEMU machine for the migrc KUnit suites: four CPUs on two NUMA
# nodes of 512 MiB each (the node sizes must add up to kunit.py's -m 1024).
# NUMA comes to the guest through ACPI SRAT, hence ACPI and PCI.

from ..qemu_config import QemuArchParams

QEMU_ARCH = QemuArchParams(linux_arch='x86_64',
			   kconfig='''
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_SMP=y
CONFIG_NUMA=y
CONFIG_ACPI=y
CONFIG_PCI=y
CONFIG_X86_64_ACPI_NUMA=y''',
			   qemu_arch='x86_64',
			   kernel_path='arch/x86/boot/bzImage',
			   kernel_command_line='console=ttyS0',
			   extra_qemu_params=['-bios', 'qboot.rom', '-smp', '4', '-object', 'memory-backend-ram,id=m0,size=512M', '-object', 'memory-backend-ram,id=m1,size=512M', '-numa', 'node,nodeid=0,cpus=0-1,memdev=m0', '-numa', 'node,nodeid=1,cpus=2-3,memdev=m1'])
