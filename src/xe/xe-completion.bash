# bash completion for xe (xenbox's `xe`, docs/XE.md), installed as
# /usr/share/bash-completion/completions/xe.  It asks xe itself, as XAPI's
# completion does: the commands from `xe help --minimal --all`, a
# command's parameters from `xe help COMMAND` (its "reqd params" and
# "optional params" lines), and the values of uuid=, vm=, sr-uuid=, ...
# from `xe CLASS-list params=... --minimal`.  Options before the command
# (-s HOST -u USER -pw PASSWORD -p PORT, server=..., unix=...) are passed
# on to those calls, so a remote host completes too.

_xe_values()    # CLASS FIELD: the field of every object, one per line
{
	"${_xe_cmd[@]}" "$1-list" params="$2" --minimal 2>/dev/null |
		sed -e 's/\([^\\]\),/\1\n/g' -e 's/\\,/,/g' -e 's/\\\\/\\/g'
}

_xe()
{
	local cur=${COMP_WORDS[COMP_CWORD]} i w cmd="" cmdi=0
	local -a _xe_cmd=("${COMP_WORDS[0]}")

	COMPREPLY=()
	# the connection's options, and where the command is
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case "$w" in
		-s|-h|-p|-u|-pw|-pwf)
			_xe_cmd+=("$w" "${COMP_WORDS[i + 1]}")
			i=$((i + 1))
			;;
		server=*|port=*|username=*|password=*|passwordfile=*|unix=*)
			_xe_cmd+=("$w")
			;;
		-*|*=*)
			;;
		*)
			[ -z "$cmd" ] && cmd=$w && cmdi=$i
			;;
		esac
	done
	case "${COMP_WORDS[COMP_CWORD - 1]}" in
	-s|-h|-p|-u|-pw)
		return 0
		;;
	-pwf)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
		;;
	esac
	if [ -z "$cmd" ] || [ "$cmdi" -eq "$COMP_CWORD" ]; then
		local cmds
		cmds=$("${_xe_cmd[@]}" help --minimal --all 2>/dev/null)
		COMPREPLY=($(compgen -W "${cmds//,/ }" -- "$cur"))
		[ ${#COMPREPLY[@]} -eq 1 ] && COMPREPLY[0]+=" "
		return 0
	fi
	if [[ "$cur" == *=* ]]; then
		local param=${cur%%=*} val=${cur#*=} cls=${cmd%%-*} field=uuid line
		case "$param" in
		uuid) ;;
		vm|host|sr|vdi|network|pool) cls=$param field=name-label ;;
		vm-uuid|host-uuid|sr-uuid|vdi-uuid|network-uuid) cls=${param%-uuid} ;;
		name-label) field=name-label ;;
		template) cls=vm field=name-label ;;
		params|param-name)
			local p
			p=$("${_xe_cmd[@]}" help "$cls-list" 2>/dev/null |
				sed -n 's/^ *optional params : //p')
			p=${p//,/}
			[ "$param" = params ] && p="all $p"
			COMPREPLY=($(compgen -P "$param=" -W "$p" -- "$val"))
			return 0
			;;
		force|multiple|minimal|all|paused|sharable|read-only|is-a-template)
			COMPREPLY=($(compgen -P "$param=" -W "true false" -- "$val"))
			return 0
			;;
		filename|passwordfile)
			COMPREPLY=($(compgen -P "$param=" -f -- "$val"))
			return 0
			;;
		*) return 0 ;;
		esac
		while IFS= read -r line; do
			[ -n "$line" ] && [[ "$line" == "$val"* ]] &&
				COMPREPLY+=("$param=$(printf '%q' "$line")")
		done < <(_xe_values "$cls" "$field")
		return 0
	fi
	# a parameter name: the command's, with its "="
	local reqd opt p
	reqd=$("${_xe_cmd[@]}" help "$cmd" 2>/dev/null | sed -n 's/^ *reqd params *: //p')
	opt=$("${_xe_cmd[@]}" help "$cmd" 2>/dev/null | sed -n 's/^ *optional params : //p')
	for p in ${reqd//,/} ${opt//,/}; do
		case " ${COMP_WORDS[*]} " in
		*" $p="*) continue ;;
		esac
		[[ "$p" == "$cur"* ]] && COMPREPLY+=("$p=")
	done
	case "$cur" in
	-*) COMPREPLY+=($(compgen -W "--minimal --multiple --force --all" -- "$cur")) ;;
	esac
	return 0
}

complete -F _xe -o nospace xe
