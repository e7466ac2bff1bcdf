#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "CFPMShims.h"

/* The executable's own symbol table (.symtab), for naming the frames dladdr() cannot: dladdr
   reads only the dynamic symbols, which a release build without --export-dynamic limits to a
   few, so a slow Swift handler's frames would show as "???". The file is mapped read-only once
   (page cache, nothing private), in normal context; a lookup is then a plain scan of that
   memory, which is async-signal-safe. A stripped binary has no .symtab: lookups find nothing. */

static const Elf64_Sym *exe_syms = NULL;
static size_t exe_nsyms = 0;
static const char *exe_strs = NULL;
static size_t exe_strs_size = 0;
static uintptr_t exe_bias = 0;

static int exe_symbols_parse(const unsigned char *image, size_t size, uintptr_t base) {
    if (size < sizeof(Elf64_Ehdr)) return 0;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)image;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) return 0;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_phentsize != sizeof(Elf64_Phdr)) return 0;
    if (eh->e_shoff == 0 || eh->e_shoff > size || (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum) return 0;
    if (eh->e_phoff > size || (size - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum) return 0;
    /* The load bias: where the lowest PT_LOAD segment was mapped, less its file address. */
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(image + eh->e_phoff);
    uint64_t lowest = UINT64_MAX;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < lowest) lowest = ph[i].p_vaddr;
    }
    if (lowest == UINT64_MAX) return 0;
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0) lowest &= ~(uint64_t)(page - 1);
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(image + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_entsize != sizeof(Elf64_Sym)) continue;
        if (sh[i].sh_link >= eh->e_shnum) return 0;
        const Elf64_Shdr *strtab = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > size || size - sh[i].sh_offset < sh[i].sh_size) return 0;
        if (strtab->sh_offset > size || size - strtab->sh_offset < strtab->sh_size || strtab->sh_size == 0) return 0;
        const char *strs = (const char *)(image + strtab->sh_offset);
        if (strs[strtab->sh_size - 1] != '\0') return 0;  /* every name ends inside the table */
        exe_syms = (const Elf64_Sym *)(image + sh[i].sh_offset);
        exe_nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
        exe_strs = strs;
        exe_strs_size = strtab->sh_size;
        exe_bias = base - (uintptr_t)lowest;
        return 1;
    }
    return 0;
}

int cfpm_exe_symbols_load(void) {
    if (exe_syms != NULL) return (int)exe_nsyms;
    Dl_info where;
    memset(&where, 0, sizeof(where));
    if (!dladdr((void *)&cfpm_exe_symbols_load, &where) || where.dli_fbase == NULL) return 0;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) { close(fd); return 0; }
    void *image = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (image == MAP_FAILED) return 0;
    if (!exe_symbols_parse(image, (size_t)st.st_size, (uintptr_t)where.dli_fbase)) {
        munmap(image, (size_t)st.st_size);
        return 0;
    }
    return (int)exe_nsyms;
}

const char *cfpm_exe_symbol(uintptr_t address, uintptr_t *offset) {
    if (exe_syms == NULL || address < exe_bias) return NULL;
    uintptr_t at = address - exe_bias;
    for (size_t i = 0; i < exe_nsyms; i++) {
        const Elf64_Sym *s = &exe_syms[i];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF || s->st_size == 0) continue;
        if (at < s->st_value || at - s->st_value >= s->st_size) continue;
        if (s->st_name == 0 || s->st_name >= exe_strs_size) return NULL;
        if (offset != NULL) *offset = at - s->st_value;
        return exe_strs + s->st_name;
    }
    return NULL;
}
