# Debian packages, built by CPack from the install rules: hive-policyd and
# hive-milter, each with its binary (/usr/sbin), example config (/etc/hive,
# a conffile), systemd unit, man page, and maintainer scripts that create
# (postinst) and remove (postrm purge, once no hive package is left) the
# system user "hive". hive-policyd also carries the operator's docs
# (/usr/share/doc/hive: README, docs/*.md), hivectl (/usr/bin), the
# CLI of its admin API, and the IP-pool tools (hive-postfix-config,
# hive-sendmail-config, hive-maillog-follower and its unit, not enabled).
#
#   cmake --build BUILD && (cd BUILD && cpack -G DEB)
#
# Included from the top-level CMakeLists.txt after the daemons' targets.
set(HIVE_DEB_COMPONENTS policyd milter)
set(HIVE_DEB_DIR ${CMAKE_CURRENT_BINARY_DIR}/debian)

# Sections: "policyd" -> package hive-policyd, its config and man page.
# EXTRA_UNITS: more units of the package, stopped and disabled on removal.
function(hive_deb_component component other)
  cmake_parse_arguments(C "" "" "EXTRA_UNITS" ${ARGN})
  set(PKG hive-${component})
  string(JOIN " " EXTRA_UNITS ${C_EXTRA_UNITS})
  set(OTHERS hive-${other})
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/config/${component}.yaml DESTINATION /etc/hive COMPONENT ${component})
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/${PKG}.service DESTINATION /lib/systemd/system
          COMPONENT ${component})
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/man/${PKG}.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8
          COMPONENT ${component})
  foreach(script postinst prerm postrm)
    configure_file(${PROJECT_SOURCE_DIR}/deploy/debian/${script}.in ${HIVE_DEB_DIR}/${component}/${script} @ONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                                    WORLD_EXECUTE)
  endforeach()
  file(WRITE ${HIVE_DEB_DIR}/${component}/conffiles "/etc/hive/${component}.yaml\n")
  string(TOUPPER ${component} C)
  set(CPACK_DEBIAN_${C}_PACKAGE_NAME ${PKG} PARENT_SCOPE)
  set(CPACK_DEBIAN_${C}_FILE_NAME DEB-DEFAULT PARENT_SCOPE)
  set(CPACK_DEBIAN_${C}_PACKAGE_CONTROL_EXTRA
      "${HIVE_DEB_DIR}/${component}/postinst;${HIVE_DEB_DIR}/${component}/prerm;${HIVE_DEB_DIR}/${component}/postrm;${HIVE_DEB_DIR}/${component}/conffiles"
      PARENT_SCOPE)
  set(CPACK_DEBIAN_${C}_PACKAGE_CONTROL_STRICT_PERMISSION TRUE PARENT_SCOPE)
endfunction()

hive_deb_component(policyd milter EXTRA_UNITS hive-maillog-follower.service)
hive_deb_component(milter policyd)
# hive-policyd also carries the IP-pool tools (policy/tools): the Postfix and
# Sendmail generators and the maillog follower, whose unit is installed but
# not enabled (only useful with warm-up members behind Postfix).
install(FILES ${PROJECT_SOURCE_DIR}/deploy/man/hive-postfix-config.8 ${PROJECT_SOURCE_DIR}/deploy/man/hive-sendmail-config.8
              ${PROJECT_SOURCE_DIR}/deploy/man/hive-maillog-follower.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT policyd)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/hive-maillog-follower.service DESTINATION /lib/systemd/system
        COMPONENT policyd)
# The operator's documentation the man pages point at (/usr/share/doc/hive).
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/operations.md
              ${PROJECT_SOURCE_DIR}/docs/config-reference.md ${PROJECT_SOURCE_DIR}/docs/troubleshooting.md
              ${PROJECT_SOURCE_DIR}/docs/failure-modes.md ${PROJECT_SOURCE_DIR}/docs/pools.md
              ${PROJECT_SOURCE_DIR}/docs/scoring.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT policyd)
set(CPACK_DEBIAN_POLICYD_DESCRIPTION "hive policy service: rate limits, content scoring, IP pools
 hive-policyd is the gRPC policy service behind hive-milter: per-sender
 throttling and quotas, anti-spam scoring of outgoing mail and IP-pool
 routing for Postfix and Sendmail sending platforms. hivectl is the
 operator's CLI over its admin API (hive-policyd --admin-listen);
 hive-postfix-config and hive-sendmail-config write the MTA side of the IP
 pools, hive-maillog-follower feeds Postfix's deliveries back to warm-up.")
set(CPACK_DEBIAN_MILTER_DESCRIPTION "hive milter for Postfix and Sendmail
 hive-milter attaches to Postfix or Sendmail through the milter protocol,
 asks hive-policyd at MAIL, RCPT and end of message, and applies its
 decision: accept, 4xx, 5xx, quarantine, header edits, the IP pool mark.")
set(CPACK_DEBIAN_POLICYD_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_MILTER_PACKAGE_SECTION mail)

# cpack (and `ninja install`) package what is built, without building every
# test first: the package test runs after the build, on its binaries.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL ${HIVE_DEB_COMPONENTS})
set(CPACK_PACKAGE_NAME hive)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "hive maintainers <hive@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_STRIP_FILES ON)
# Fast to build in CI; the packages are small once stripped.
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
include(CPack)
