#include <config.h>

#include "migrator/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(migr_storage);

static const char *const mode_names[] = {
    [MIGR_STORAGE_AUTO] = "auto",
    [MIGR_STORAGE_COPY] = "copy",
    [MIGR_STORAGE_SHARED] = "shared",
};

bool
migr_storage_mode_parse(const char *s, enum migr_storage_mode *mode)
{
    for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++) {
        if (!strcmp(s, mode_names[i])) {
            *mode = i;
            return true;
        }
    }
    return false;
}

const char *
migr_storage_mode_name(enum migr_storage_mode mode)
{
    return mode_names[mode];
}

char *
migr_storage_probe_encode(const char *token, const struct sset *disks)
{
    struct json *paths = json_array_create_empty();
    const char *disk;
    SSET_FOR_EACH (disk, disks) {
        json_array_add(paths, json_string_create(disk));
    }
    struct json *probe = json_object_create();
    json_object_put_string(probe, "token", token);
    json_object_put(probe, "disks", paths);
    char *s = json_to_string(probe, JSSF_SORT);
    json_destroy(probe);
    return s;
}

/* A token goes into file names: letters, digits and '-' only. */
static bool
is_token(const char *token)
{
    size_t len = strlen(token);
    return (len > 0 && len <= 64
            && strspn(token, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == len);
}

/* Parses a probe published by a source; returns an error or NULL. */
char *
migr_storage_probe_decode(const char *s, char **token, struct sset *disks)
{
    struct json *probe = json_from_string(s);
    const struct json *t = (probe->type == JSON_OBJECT
                            ? shash_find_data(json_object(probe), "token")
                            : NULL);
    const struct json *d = (probe->type == JSON_OBJECT
                            ? shash_find_data(json_object(probe), "disks")
                            : NULL);
    char *error = NULL;
    *token = NULL;
    if (!t || t->type != JSON_STRING || !d || d->type != JSON_ARRAY) {
        error = xasprintf("storage probe is not {\"token\": STRING, "
                          "\"disks\": [PATH...]}: %s", s);
    } else if (!is_token(json_string(t))) {
        error = xasprintf("storage probe: token \"%s\" is not 1 to 64 "
                          "letters, digits and '-'", json_string(t));
    } else {
        const struct json_array *a = json_array(d);
        for (size_t i = 0; !error && i < a->n; i++) {
            if (a->elems[i]->type != JSON_STRING) {
                error = xasprintf("storage probe: disks[%"PRIuSIZE"] is not "
                                  "a path", i);
            } else {
                sset_add(disks, json_string(a->elems[i]));
            }
        }
        *token = error ? NULL : xstrdup(json_string(t));
    }
    json_destroy(probe);
    return error;
}

/* Where the probe of 'disk' with 'token' lives: beside it, hidden, named
 * for its token, so that removing one migration's probe never removes the
 * next one's.  With 'token' NULL: where vmroam put it before, which a
 * destination still reads for an older source. */
static char *
probe_path(const char *disk, const char *token)
{
    char *dir = dir_name(disk);
    char *base = base_name(disk);
    char *path = xasprintf("%s/.%s.vmroam-probe%s%s", dir, base,
                           token ? "-" : "", token ? token : "");
    free(dir);
    free(base);
    return path;
}


/* Writes 'token' into the probe file beside every disk.  Returns an error
 * (and leaves no probe behind) or NULL. */
char *
migr_storage_probe_write(const struct sset *disks, const char *token)
{
    const char *disk;
    SSET_FOR_EACH (disk, disks) {
        char *path = probe_path(disk, token);
        /* A new regular file, never through a link planted there: the
         * directory may be writable by others (shared storage). */
        unlink(path);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
                      | O_CLOEXEC, 0600);
        size_t len = strlen(token);
        bool ok = fd >= 0 && write(fd, token, len) == len;
        int error = errno;
        if (fd >= 0 && close(fd) && ok) {
            ok = false;
            error = errno;
        }
        if (!ok) {
            char *msg = xasprintf("cannot write the storage probe %s beside "
                                  "disk %s: %s", path, disk,
                                  ovs_strerror(error));
            free(path);
            migr_storage_probe_remove(disks, token);
            return msg;
        }
        free(path);
    }
    return NULL;
}

/* Replaces each path in 'disks' by the file it resolves to here, so that
 * the probe goes beside the disk itself, not beside a link to it. */
void
migr_storage_resolve(struct sset *disks)
{
    struct sset real = SSET_INITIALIZER(&real);
    const char *disk;
    SSET_FOR_EACH (disk, disks) {
        char *path = realpath(disk, NULL);
        sset_add(&real, path ? path : disk);
        free(path);
    }
    sset_swap(&real, disks);
    sset_destroy(&real);
}

/* Reads into 'buf' the probe beside 'disk' named for 'token' (as
 * probe_path() says), a regular file of less than 'size' bytes.  Returns
 * its length, or -1 with '*error' an errno value. */
static ssize_t
read_probe(const char *disk, const char *token, char *buf, size_t size,
           int *error)
{
    char *path = probe_path(disk, token);
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    bool regular = fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode);
    ssize_t n = regular ? read(fd, buf, size - 1) : -1;
    *error = fd < 0 ? errno : !regular ? EINVAL : errno;
    if (fd >= 0) {
        close(fd);
    }
    free(path);
    return n;
}

/* Returns NULL if the probe beside 'disk' holds 'token', else why not. */
static char *
check_disk(const char *disk, const char *token)
{
    /* The source resolved its paths: here they must be files themselves
     * too, or a link here could lead to a local disk beside a shared
     * directory. */
    char *real = realpath(disk, NULL);
    if (real && strcmp(real, disk)) {
        char *why = xasprintf("disk %s: leads to %s here, another file "
                              "than the source's", disk, real);
        free(real);
        return why;
    }
    free(real);

    char buf[128];
    int error = 0;
    ssize_t n = read_probe(disk, token, buf, sizeof buf, &error);
    if (n < 0 && error == ENOENT) {
        n = read_probe(disk, NULL, buf, sizeof buf, &error);
    }
    if (n < 0) {
        return (error == ENOENT
                ? xasprintf("disk %s: not the source's file (the probe the "
                            "source wrote beside it is missing here)", disk)
                : xasprintf("disk %s: probe: %s", disk,
                            ovs_strerror(error)));
    }
    buf[n] = '\0';
    return (strcmp(buf, token)
            ? xasprintf("disk %s: a different file at the same path", disk)
            : NULL);
}

/* Returns NULL if every disk's probe file holds 'token' (this host sees
 * the files the source wrote), else why not, naming the first disk (in
 * name order) that is not shared. */
char *
migr_storage_probe_check(const struct sset *disks, const char *token)
{
    const char **sorted = sset_sort(disks);
    char *why = NULL;
    for (size_t i = 0; !why && i < sset_count(disks); i++) {
        why = check_disk(sorted[i], token);
    }
    free(sorted);
    return why;
}

void
migr_storage_probe_remove(const struct sset *disks, const char *token)
{
    const char *disk;
    SSET_FOR_EACH (disk, disks) {
        char *path = probe_path(disk, token);
        if (unlink(path) && errno != ENOENT) {
            VLOG_WARN("%s: %s", path, ovs_strerror(errno));
        }
        free(path);
    }
}

/* Decides how 'vm''s disks travel to 'destination' given the operator's
 * 'mode' and the destination's 'verdict' on the probe (NULL with
 * MIGR_STORAGE_COPY, which needs none): sets '*copy' and returns NULL, or
 * returns why the migration must not go ahead. */
char *
migr_storage_decide(enum migr_storage_mode mode, const char *vm,
                    const char *destination, const char *verdict,
                    bool *copy)
{
    bool shared = verdict && !strcmp(verdict, MIGR_STORAGE_SHARED_YES);
    *copy = !shared;
    if (mode == MIGR_STORAGE_COPY) {
        *copy = true;
    } else if (mode == MIGR_STORAGE_SHARED && !shared) {
        return xasprintf("storage of %s is not shared with %s (%s); "
                         "migrate with --storage copy or auto to copy the "
                         "disks", vm, destination,
                         verdict ? verdict : "no verdict");
    }
    return NULL;
}
