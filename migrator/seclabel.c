#include <config.h>

#include "migrator/seclabel.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "migrator/xml.h"
#include "util.h"

static bool
is_dac(const xmlNode *node, const char *model_attr)
{
    char *model = (model_attr ? migr_xml_attr(node, model_attr)
                   : migr_xml_content(migr_xml_child(node, "model")));
    bool dac = model && !strcmp(model, "dac");
    free(model);
    return dac;
}

/* The first child called 'name' of 'parent' that is about the DAC driver,
 * as 'model_attr' (an attribute, or NULL for a <model> child) says. */
static const xmlNode *
dac_child(const xmlNode *parent, const char *name, const char *model_attr)
{
    for (const xmlNode *c = parent ? parent->children : NULL; c;
         c = c->next) {
        if (c->type == XML_ELEMENT_NODE
            && !strcmp((const char *) c->name, name)
            && is_dac(c, model_attr)) {
            return c;
        }
    }
    return NULL;
}

/* The DAC label ("+64055:+64056") of the domain whose XML (as a running
 * domain's, from virDomainGetXMLDesc()) is 'domain_xml', or NULL if it has
 * none.  The caller frees it. */
char *
migr_seclabel_of_domain(const char *domain_xml)
{
    xmlDoc *doc = migr_xml_parse(domain_xml);
    const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    const xmlNode *seclabel = dac_child(root, "seclabel", "model");
    char *label = migr_xml_content(migr_xml_child(seclabel, "label"));
    xmlFreeDoc(doc);
    return label;
}

/* The DAC base label of the host whose capabilities (virConnectGet
 * Capabilities()) are 'capabilities_xml': what it runs a new QEMU as.
 * NULL if it says none.  The caller frees it. */
char *
migr_seclabel_of_host(const char *capabilities_xml)
{
    xmlDoc *doc = migr_xml_parse(capabilities_xml);
    const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    const xmlNode *secmodel = dac_child(migr_xml_child(root, "host"),
                                        "secmodel", NULL);
    char *label = migr_xml_content(migr_xml_child(secmodel, "baselabel"));
    xmlFreeDoc(doc);
    return label;
}

/* One half of a label: "+N" is a number, anything else the name of a user
 * (if 'user') or of a group.  Returns false if it is neither. */
static bool
parse_id(const char *s, bool user, unsigned long *id)
{
    if (*s == '+') {
        char *end;
        errno = 0;
        *id = strtoul(s + 1, &end, 10);
        return s[1] && !*end && !errno && *id < (uid_t) -1;
    }
    if (user) {
        const struct passwd *pw = *s ? getpwnam(s) : NULL;
        *id = pw ? pw->pw_uid : 0;
        return pw != NULL;
    }
    const struct group *gr = *s ? getgrnam(s) : NULL;
    *id = gr ? gr->gr_gid : 0;
    return gr != NULL;
}

/* Parses DAC label 'label', "USER:GROUP", each a name or "+" and a number,
 * into '*uid' and '*gid'.  Returns an error or NULL. */
char *
migr_seclabel_parse(const char *label, uid_t *uid, gid_t *gid)
{
    const char *colon = strchr(label, ':');
    if (!colon) {
        return xasprintf("DAC label \"%s\" is not USER:GROUP", label);
    }
    char *user = xmemdup0(label, colon - label);
    unsigned long u, g;
    char *error = NULL;
    if (!parse_id(user, true, &u)) {
        error = xasprintf("DAC label \"%s\": no user \"%s\"", label, user);
    } else if (!parse_id(colon + 1, false, &g)) {
        error = xasprintf("DAC label \"%s\": no group \"%s\"", label,
                          colon + 1);
    } else {
        *uid = u;
        *gid = g;
    }
    free(user);
    return error;
}
