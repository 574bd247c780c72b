// SPDX-License-Identifier: GPL-2.0
/*
 * snapmap - maps' lives: creation, names, references and permissions
 *
 * Every live map is on one list, so that names are unique, maps can be
 * found by name, counted per user and listed in debugfs.  A map leaves the
 * list the moment its last reference goes, under the same mutex as name
 * lookups, so a dying map is never found and its name is free at once.
 *
 * A persistent map is held by the list itself: one reference on the map,
 * and one on the module, so that the module cannot be unloaded under it,
 * until its name is deleted.  A deleted name stays in the map, which
 * stays on the list (it is still a live map of its owner's) but is no
 * longer found by it: @unlinked, set once under the mutex.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "core.h"
#include "limits.h"
#include "objcache.h"
#include "reclaim.h"
#include "table.h"

static DEFINE_MUTEX(snapmap_registry_lock);
static LIST_HEAD(snapmap_registry);

/* The id of the last map made; ids are never reused while loaded. */
static atomic64_t snapmap_last_id = ATOMIC64_INIT(0);

/*
 * A name is 1 to SNAPMAP_NAME_LEN - 1 characters of [A-Za-z0-9._-]
 * (isalnum() alone would also take Latin-1 letters).
 */
static bool snapmap_name_valid(const char *name)
{
	size_t len = strnlen(name, SNAPMAP_NAME_LEN);
	size_t i;

	if (!len || len == SNAPMAP_NAME_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isascii(name[i]) ||
		    (!isalnum(name[i]) && !strchr("._-", name[i])))
			return false;
	return true;
}

/* Apply a module-wide cap to a limit; 0 asks for the cap itself. */
static int snapmap_limit(u64 asked, u64 cap, u64 *limit)
{
	if (asked > cap)
		return -EINVAL;
	*limit = asked ? asked : cap;
	return 0;
}

static int snapmap_set_limits(struct snapmap *map,
			      const struct snapmap_attr *attr)
{
	u64 key_len, value_len;
	int err;

	err = snapmap_limit(attr->max_key_len, snapmap_cap_key_len, &key_len) ?:
	      snapmap_limit(attr->max_value_len, snapmap_cap_value_len,
			    &value_len) ?:
	      snapmap_limit(attr->max_entries, snapmap_cap_entries,
			    &map->max_entries) ?:
	      snapmap_limit(attr->max_bytes, snapmap_cap_bytes,
			    &map->max_bytes);
	if (err)
		return err;
	map->max_key_len = key_len;
	map->max_value_len = value_len;
	return 0;
}

static struct snapmap *snapmap_lookup_name(const char *name)
{
	struct snapmap *map;

	lockdep_assert_held(&snapmap_registry_lock);
	list_for_each_entry(map, &snapmap_registry, registry)
		if (!map->unlinked && !strcmp(map->name, name))
			return map;
	return NULL;
}

static unsigned int snapmap_count_user_maps(kuid_t uid)
{
	struct snapmap *map;
	unsigned int n = 0;

	lockdep_assert_held(&snapmap_registry_lock);
	list_for_each_entry(map, &snapmap_registry, registry)
		n += uid_eq(map->uid, uid);
	return n;
}

/**
 * snapmap_alloc_map() - a new map that nobody can find yet
 * @attr: its limits, mode, name and flags
 *
 * The map is owned by the caller's fsuid and fsgid, and its memory is
 * charged to the caller's memory cgroup.  The caller holds the one
 * reference.  A persistent map becomes one when it is registered.
 *
 * Context: process context; may sleep.
 *
 * Return: the map; ERR_PTR(-EINVAL) for a bad name, mode or flag, a
 * persistent map with no name, or a limit above the module's caps;
 * ERR_PTR(-ENOMEM).
 */
struct snapmap *snapmap_alloc_map(const struct snapmap_attr *attr)
{
	const char *name = attr->name ?: "";
	struct snapmap *map;
	int err;

	if (*name && !snapmap_name_valid(name))
		return ERR_PTR(-EINVAL);
	if (attr->mode & ~0777 || attr->flags & ~SNAPMAP_CREATE_MASK)
		return ERR_PTR(-EINVAL);
	/* Nothing could ever reach it again, or delete it. */
	if (attr->flags & SNAPMAP_CREATE_PERSISTENT && !*name)
		return ERR_PTR(-EINVAL);

	/* A full memory cgroup gives ENOMEM, not its OOM killer. */
	map = kzalloc(sizeof(*map), SNAPMAP_GFP_BUF);
	if (!map)
		return ERR_PTR(-ENOMEM);
	err = snapmap_set_limits(map, attr);
	if (err)
		goto err_free;
	strscpy(map->name, name, sizeof(map->name));
	map->id = atomic64_inc_return(&snapmap_last_id);
	map->create_flags = attr->flags;
	map->mode = attr->mode ?: 0600;
	map->uid = current_fsuid();
	map->gid = current_fsgid();
	refcount_set(&map->ref, 1);
	INIT_LIST_HEAD(&map->registry);
	mutex_init(&map->feed_mutex);
	snapmap_reclaim_init(map);
	map->memcg = get_mem_cgroup_from_mm(current->mm);
	err = snapmap_table_init(map);
	if (err)
		goto err_memcg;
	return map;

err_memcg:
	mem_cgroup_put(map->memcg);
err_free:
	kfree(map);
	return ERR_PTR(err);
}

/**
 * snapmap_register() - make a new map findable, and count it for its owner
 * @map: a map from snapmap_alloc_map()
 *
 * A map created %SNAPMAP_CREATE_PERSISTENT becomes persistent here: the
 * registry takes a reference on it, and one on the module.
 *
 * Context: process context; takes the registry mutex.
 *
 * Return: 0; -EEXIST if a live map has its name; -EDQUOT if its owner owns
 * as many maps as allowed.
 */
int snapmap_register(struct snapmap *map)
{
	int err = 0;

	mutex_lock(&snapmap_registry_lock);
	if (map->name[0] && snapmap_lookup_name(map->name))
		err = -EEXIST;
	else if (snapmap_count_user_maps(map->uid) >= snapmap_cap_maps_per_user)
		err = -EDQUOT;
	else
		list_add_tail(&map->registry, &snapmap_registry);
	if (!err && map->create_flags & SNAPMAP_CREATE_PERSISTENT) {
		/*
		 * The caller runs the module's code: through an fd, which
		 * holds the module, or from a module that links to it.
		 */
		__module_get(THIS_MODULE);
		refcount_inc(&map->ref);
		WRITE_ONCE(map->persistent, true);
	}
	mutex_unlock(&snapmap_registry_lock);
	return err;
}

/**
 * snapmap_create() - create a map
 * @attr: its limits, mode, name and flags
 *
 * The map is owned by the caller's fsuid and fsgid, and its memory is
 * charged to the caller's memory cgroup.  The caller holds the one
 * reference; snapmap_put() drops it.  With %SNAPMAP_CREATE_PERSISTENT in
 * @attr->flags the registry holds another, and the module, until
 * snapmap_unlink() or %SNAPMAP_IOC_DELETE.
 *
 * Context: process context; may sleep.
 *
 * Return: the map; ERR_PTR(-EINVAL) for a bad name or mode or a limit above
 * the module's caps; ERR_PTR(-EEXIST) if a live map has the name;
 * ERR_PTR(-EDQUOT) if the caller's user owns as many maps as allowed;
 * ERR_PTR(-ENOMEM).
 */
struct snapmap *snapmap_create(const struct snapmap_attr *attr)
{
	struct snapmap *map = snapmap_alloc_map(attr);
	int err;

	if (IS_ERR(map))
		return map;
	err = snapmap_register(map);
	if (err) {
		snapmap_put(map);
		return ERR_PTR(err);
	}
	return map;
}
EXPORT_SYMBOL_GPL(snapmap_create);

/**
 * snapmap_get() - take a reference on a map
 * @map: a map the caller already holds a reference on
 *
 * Context: any context.
 */
void snapmap_get(struct snapmap *map)
{
	refcount_inc(&map->ref);
}
EXPORT_SYMBOL_GPL(snapmap_get);

/**
 * snapmap_put() - drop a reference on a map
 * @map: the map
 *
 * Dropping the last reference frees the map and releases its name.
 *
 * Context: process context; may sleep.  Takes the registry mutex when it
 * drops the last reference.
 */
void snapmap_put(struct snapmap *map)
{
	if (!refcount_dec_and_mutex_lock(&map->ref, &snapmap_registry_lock))
		return;
	list_del_init(&map->registry);
	mutex_unlock(&snapmap_registry_lock);

	/* A watch holds its map: the last one closed took the feed away. */
	WARN_ON_ONCE(map->feed);
	snapmap_reclaim_exit(map);
	snapmap_table_destroy(map);
	mem_cgroup_put(map->memcg);
	mutex_destroy(&map->feed_mutex);
	kfree(map);
}
EXPORT_SYMBOL_GPL(snapmap_put);

/*
 * Find a live map by name and take a reference on it; a map whose last
 * reference is going is not live.
 */
static struct snapmap *snapmap_get_by_name(const char *name)
{
	struct snapmap *map;

	if (!snapmap_name_valid(name))
		return ERR_PTR(-EINVAL);
	mutex_lock(&snapmap_registry_lock);
	map = snapmap_lookup_name(name);
	if (map && !refcount_inc_not_zero(&map->ref))
		map = NULL;
	mutex_unlock(&snapmap_registry_lock);
	return map ?: ERR_PTR(-ENOENT);
}

/**
 * snapmap_find() - find a named map and take a reference on it
 * @name: the name
 *
 * For kernel consumers: no permission check.
 *
 * Context: process context; may sleep (takes the registry mutex).
 *
 * Return: the map, which the caller must snapmap_put(); ERR_PTR(-ENOENT)
 * if no live map has the name; ERR_PTR(-EINVAL) for an invalid name.
 */
struct snapmap *snapmap_find(const char *name)
{
	return snapmap_get_by_name(name);
}
EXPORT_SYMBOL_GPL(snapmap_find);

/* Whether the caller owns @map. */
static bool snapmap_owned(const struct snapmap *map)
{
	return uid_eq(current_fsuid(), map->uid);
}

/* Check the map's mode like a file's; CAP_SYS_ADMIN overrides. */
static int snapmap_may_open(struct snapmap *map, bool read_only)
{
	unsigned int need = read_only ? 04 : 06;
	unsigned int mode = map->mode;

	if (snapmap_owned(map))
		mode >>= 6;
	else if (in_group_p(map->gid))
		mode >>= 3;
	if ((mode & need) == need || capable(CAP_SYS_ADMIN))
		return 0;
	return -EACCES;
}

/**
 * snapmap_open_named() - find a named map for a user-space caller
 * @name: the name
 * @read_only: the caller asks only to read
 *
 * Context: process context; may sleep.
 *
 * Return: the map, with a reference; ERR_PTR(-ENOENT), ERR_PTR(-EINVAL) as
 * snapmap_find(); ERR_PTR(-EACCES) if the map's mode refuses the access.
 */
struct snapmap *snapmap_open_named(const char *name, bool read_only)
{
	struct snapmap *map = snapmap_get_by_name(name);
	int err;

	if (IS_ERR(map))
		return map;
	err = snapmap_may_open(map, read_only);
	if (err) {
		snapmap_put(map);
		return ERR_PTR(err);
	}
	return map;
}

/*
 * Delete the name of the map @name, if @check says the caller may: the
 * owner, or CAP_SYS_ADMIN.  The registry's hold of a persistent map is
 * dropped after the mutex, as the last reference may be.
 */
static int snapmap_unlink_name(const char *name, bool check)
{
	bool persistent = false;
	struct snapmap *map;
	int err = 0;

	if (!snapmap_name_valid(name))
		return -EINVAL;
	mutex_lock(&snapmap_registry_lock);
	map = snapmap_lookup_name(name);
	/* A dying map is not live: its name is as good as free. */
	if (!map || !refcount_read(&map->ref))
		err = -ENOENT;
	else if (check && !snapmap_owned(map) && !capable(CAP_SYS_ADMIN))
		err = -EACCES;
	if (!err) {
		WRITE_ONCE(map->unlinked, true);
		persistent = map->persistent;
		WRITE_ONCE(map->persistent, false);
	}
	mutex_unlock(&snapmap_registry_lock);
	if (persistent) {
		snapmap_put(map);
		/* The caller holds the module too (see snapmap_register()). */
		module_put(THIS_MODULE);
	}
	return err;
}

/**
 * snapmap_unlink() - delete a map's name
 * @name: the name
 *
 * For kernel consumers: no permission check.  The name is free at once;
 * the map lives on, unnamed, while references hold it.  A persistent
 * map's registry reference goes with the name.
 *
 * Context: process context; may sleep (takes the registry mutex, and may
 * free the map).
 *
 * Return: 0; -ENOENT if no live map has the name; -EINVAL for an invalid
 * name.
 */
int snapmap_unlink(const char *name)
{
	return snapmap_unlink_name(name, false);
}
EXPORT_SYMBOL_GPL(snapmap_unlink);

/**
 * snapmap_delete_named() - delete a map's name for a user-space caller
 * @name: the name
 *
 * As snapmap_unlink(), for the map's owner or a caller with
 * CAP_SYS_ADMIN only, whatever the map's mode.
 *
 * Context: process context; may sleep.
 *
 * Return: 0; -ENOENT, -EINVAL as snapmap_unlink(); -EACCES if the caller
 * neither owns the map nor has CAP_SYS_ADMIN.
 */
int snapmap_delete_named(const char *name)
{
	return snapmap_unlink_name(name, true);
}

/* The ``SNAPMAP_MAP_*`` flags of @map now. */
u32 snapmap_map_flags(const struct snapmap *map)
{
	return READ_ONCE(map->persistent) ? SNAPMAP_MAP_PERSISTENT : 0;
}

/**
 * snapmap_describe() - describe the maps the caller may list
 * @descs: room for @room descriptions, zeroed by the caller
 * @room: how many fit at @descs; 0 to count them only
 * @all: the unnamed maps too (%SNAPMAP_LIST_ALL), those the caller owns
 *       or, with @admin, every one
 * @admin: the caller has CAP_SYS_ADMIN
 *
 * Fills the first @room descriptions, in registry order.
 *
 * Context: process context; takes the registry mutex.
 *
 * Return: the number of maps listed, which may be more than @room, and
 * may change as soon as the mutex is dropped.
 */
u32 snapmap_describe(struct snapmap_map_desc *descs, u32 room, bool all,
		     bool admin)
{
	struct snapmap *map;
	bool named;
	u32 n = 0;

	mutex_lock(&snapmap_registry_lock);
	list_for_each_entry(map, &snapmap_registry, registry) {
		named = map->name[0] && !map->unlinked;
		if (!named && !(all && (admin || snapmap_owned(map))))
			continue;
		if (n < room) {
			descs[n].uid = from_kuid_munged(current_user_ns(),
							map->uid);
			descs[n].gid = from_kgid_munged(current_user_ns(),
							map->gid);
			descs[n].mode = map->mode;
			if (named)
				memcpy(descs[n].name, map->name,
				       sizeof(descs[n].name));
			descs[n].id = map->id;
			descs[n].map_flags = snapmap_map_flags(map);
		}
		n++;
	}
	mutex_unlock(&snapmap_registry_lock);
	return n;
}

/**
 * snapmap_show_all() - list every live map
 * @m: where to print: a header line, then a line per map; its last
 *     column counts the nodes and versions the map keeps for reuse
 *
 * Context: process context; takes the registry mutex.
 */
void snapmap_show_all(struct seq_file *m)
{
	struct snapmap_info info;
	struct snapmap *map;

	seq_puts(m, "name uid gid mode entries bytes version cached\n");
	mutex_lock(&snapmap_registry_lock);
	list_for_each_entry(map, &snapmap_registry, registry) {
		snapmap_get_info(map, &info);
		seq_printf(m, "%s %u %u %04o %llu %llu %llu %lu\n",
			   info.out_name[0] ? info.out_name : "-",
			   from_kuid_munged(&init_user_ns, map->uid),
			   from_kgid_munged(&init_user_ns, map->gid),
			   map->mode, info.out_entries, info.out_bytes,
			   info.out_version, snapmap_objcache_count(map));
	}
	mutex_unlock(&snapmap_registry_lock);
}
