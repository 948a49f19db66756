# bash completion for noid(1).  Source it, or install it as
# /usr/share/bash-completion/completions/noid.  The command list follows
# the table in tui/cli-table.c (`noid --help` prints the same list).

_noid()
{
	local cur prev words cword
	_init_completion || return

	local globals="--data-dir --profile --password-file --help --version"
	local commands="init profiles relays invite connect requests accept \
reject contacts send read search verify rekey rotate passwd export import \
daemon help"

	case "$prev" in
	--data-dir)
		_filedir -d
		return ;;
	--password-file|export|import)
		_filedir
		return ;;
	--profile)
		COMPREPLY=($(compgen -W "$(noid profiles 2>/dev/null | \
			sed 's/^[* ] //; s/  (.*//')" -- "$cur"))
		return ;;
	esac

	# The command word: the first word that is not a global option.
	local i cmd= sub=
	for ((i = 1; i < cword; i++)); do
		case "${words[i]}" in
		--data-dir|--profile|--password-file) ((i++)) ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=${words[i]}; elif [[ -z $sub ]]; \
			then sub=${words[i]}; fi ;;
		esac
	done

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$globals $commands" -- "$cur"))
		return
	fi
	case "$cmd" in
	init) COMPREPLY=($(compgen -W "--name --no-password --help" -- "$cur")) ;;
	profiles) [[ -z $sub ]] && \
		COMPREPLY=($(compgen -W "add rename rm --help" -- "$cur")) ;;
	relays) [[ -z $sub ]] && \
		COMPREPLY=($(compgen -W "add rm test --help" -- "$cur")) ;;
	invite) COMPREPLY=($(compgen -W "--text --qr --help" -- "$cur")) ;;
	read) COMPREPLY=($(compgen -W "--follow --json --limit --help \
		$(noid contacts 2>/dev/null | cut -f1)" -- "$cur")) ;;
	contacts) [[ -z $sub ]] && \
		COMPREPLY=($(compgen -W "rename rm --help" -- "$cur")) ;;
	send|verify|rekey|rotate)
		[[ -z $sub ]] && COMPREPLY=($(compgen -W \
			"$(noid contacts 2>/dev/null | cut -f1)" -- "$cur")) ;;
	accept|reject)
		COMPREPLY=($(compgen -W "$(noid requests 2>/dev/null | \
			awk '{print $2}')" -- "$cur")) ;;
	help) COMPREPLY=($(compgen -W "$commands --man" -- "$cur")) ;;
	*) COMPREPLY=($(compgen -W "--help" -- "$cur")) ;;
	esac
}
complete -F _noid noid
