/* Keeps the switch's routes for tunnels (overlay/routes.h) as the host's
 * PA calls for, through ovs-vswitchd's control socket, as "ovs-appctl
 * ovs/route/add" would.
 *
 * The socket is the one given, or the one ovs-vswitchd's pidfile in the
 * given directory names, so that a restarted switch (which forgets the
 * routes it was given) is found and given them again.  The routes are
 * checked whenever the PA or the switch changes, and every few seconds:
 * a check is a few requests on the control socket, each taken up when its
 * answer comes, so that a switch that answers late (busy with a large
 * bundle) never holds the agent up.
 * A switch that also takes the kernel's routes is given them too, and
 * warned about once: its tunnels stop for a moment at every link change
 * of the host (see overlay/routes.h). */

#ifndef OVERLAY_ROUTECTL_H
#define OVERLAY_ROUTECTL_H 1

struct ds;

struct overlay_routectl *overlay_routectl_create(const char *ctl_path,
                                                 const char *rundir);
void overlay_routectl_destroy(struct overlay_routectl *);
void overlay_routectl_set(struct overlay_routectl *, const char *pa_cidr,
                          const char *gateway, const char *dev);
void overlay_routectl_run(struct overlay_routectl *);
void overlay_routectl_wait(struct overlay_routectl *);
void overlay_routectl_describe(const struct overlay_routectl *, struct ds *);

#endif /* overlay/routectl.h */
